package dev.pflash.pipeline.flow;

import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;

/**
 * Gives back one admission ({@link AdmitFiles}) per row: apply it to the results rows and to the
 * error rows, where every document ends as exactly one row.
 */
public final class FinishDocuments<T> extends PTransform<PCollection<T>, PDone> {
    private final String runId;

    public FinishDocuments(String runId) {
        this.runId = runId;
    }

    @Override
    public PDone expand(PCollection<T> rows) {
        rows.apply("CountFinished", ParDo.of(new FinishFn<T>(runId)));
        return PDone.in(rows.getPipeline());
    }

    private static final class FinishFn<T> extends DoFn<T, Void> {
        private final String runId;

        FinishFn(String runId) {
            this.runId = runId;
        }

        @ProcessElement
        public void process(@Element T row) {
            DocumentsInFlight.finish(runId);
        }
    }
}
