package dev.pflash.pipeline.output;

import dev.pflash.pipeline.flow.FinishDocuments;
import dev.pflash.schemas.DocumentError;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.SummaryResult;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Writes the three tables ({@link OutputTables}) as Parquet under the layout's directory, in pieces
 * committed while the job runs ({@link CommitTable}), and counts what it writes ({@link RunMetrics}). The results table is the summaries ({@link OutputTables#RESULTS}) unless
 * another tag and schema are given (a classify run's {@link OutputTables#CLASSIFICATIONS}).
 */
public class WriteResults extends PTransform<PCollectionTuple, PDone> {
    private final OutputLayout layout;
    private final String runId;
    private final TupleTag<? extends GenericRecord> resultsTag;
    private final Schema resultsSchema;

    /** Writes summaries as the results table. */
    public WriteResults(OutputLayout layout, String runId) {
        this(layout, runId, OutputTables.RESULTS, SummaryResult.getClassSchema());
    }

    /** Writes the rows under {@code resultsTag}, with {@code resultsSchema}, as the results table. */
    public WriteResults(OutputLayout layout, String runId, TupleTag<? extends GenericRecord> resultsTag,
            Schema resultsSchema) {
        this.layout = layout;
        this.runId = runId;
        this.resultsTag = resultsTag;
        this.resultsSchema = resultsSchema;
    }

    @Override
    public PDone expand(PCollectionTuple tables) {
        PCollection<DocumentTimings> timings = tables.get(OutputTables.TIMINGS);
        PCollection<DocumentError> errors = tables.get(OutputTables.ERRORS);
        writeResults(tables.get(resultsTag));
        errors.apply("MeasureErrors", RunMetrics.countErrors());
        errors.apply("FinishFailed", new FinishDocuments<>(runId));
        write(timings, DocumentTimings.getClassSchema(), OutputLayout.TIMINGS);
        write(errors, DocumentError.getClassSchema(), OutputLayout.ERRORS);
        return PDone.in(tables.getPipeline());
    }

    private <T extends GenericRecord> void writeResults(PCollection<T> results) {
        results.apply("MeasureResults", RunMetrics.countResults());
        results.apply("FinishDone", new FinishDocuments<>(runId));
        write(results, resultsSchema, OutputLayout.RESULTS);
    }

    private <T extends GenericRecord> void write(PCollection<T> rows, Schema schema, String table) {
        String step = Character.toUpperCase(table.charAt(0)) + table.substring(1);
        rows.apply("Commit" + step, new CommitTable<T>(layout, table, schema, runId));
    }
}
