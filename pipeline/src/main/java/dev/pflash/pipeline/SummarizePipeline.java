package dev.pflash.pipeline;

import dev.pflash.pipeline.generate.PrefillAndGenerate;
import dev.pflash.pipeline.output.OutputTables;
import dev.pflash.pipeline.output.SummaryRows;
import dev.pflash.pipeline.output.WriteResults;
import dev.pflash.schemas.DocumentError;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PDone;

/**
 * The whole summarization job as one composite transform: match files, extract their text,
 * build and tokenize prompts, batch them, prefill and generate, and write the results, timings
 * and errors tables. Every matched file ends as exactly one result row or one error row.
 */
public class SummarizePipeline extends PTransform<PBegin, PDone> {
    private final SummarizeConfig config;

    public SummarizePipeline(SummarizeConfig config) {
        this.config = config;
    }

    @Override
    public PDone expand(PBegin begin) {
        String runId = config.runId();
        PCollectionTuple batched = begin.apply("BatchDocuments", new BatchDocuments(runId, config.input(),
                config.limits(), config.template(), config.engine(), config.opener(), config.batchTokens(), config.done()));
        PCollectionTuple generated = batched.get(BatchDocuments.BATCHES)
                .apply("PrefillAndGenerate", new PrefillAndGenerate(runId, config.engine(), config.opener(),
                        config.template(), config.decode(), config.contextTokens()));
        PCollectionTuple rows = generated.get(PrefillAndGenerate.SUMMARIES).apply("ToRows", new SummaryRows(runId));
        PCollection<DocumentError> errors = PCollectionList.of(batched.get(BatchDocuments.ERRORS))
                .and(generated.get(PrefillAndGenerate.ERRORS))
                .apply("AllErrors", Flatten.pCollections());

        return PCollectionTuple.of(OutputTables.RESULTS, rows.get(OutputTables.RESULTS))
                .and(OutputTables.TIMINGS, rows.get(OutputTables.TIMINGS))
                .and(OutputTables.ERRORS, errors)
                .apply("WriteResults", new WriteResults(config.output(), runId));
    }
}
