package dev.pflash.pipeline.flow;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How many documents a document job lets in at once ({@link AdmitFiles}). */
public interface DocumentFlowOptions extends PipelineOptions {
    @Description("Direct runner: most documents between reading and their row at once; the documents in memory grow"
            + " with this, not with the number of files. It should hold several engine batches, so that batches"
            + " fill and the engine never waits for reading. Flink and Spark apply their own flow control")
    @Default.Integer(1024)
    int getDocumentsInFlight();

    void setDocumentsInFlight(int value);
}
