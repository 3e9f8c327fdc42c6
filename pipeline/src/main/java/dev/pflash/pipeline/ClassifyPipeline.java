package dev.pflash.pipeline;

import dev.pflash.pipeline.classify.ScoreLabels;
import dev.pflash.pipeline.output.ClassificationRows;
import dev.pflash.pipeline.output.OutputTables;
import dev.pflash.pipeline.output.WriteResults;
import dev.pflash.schemas.ClassifyResult;
import dev.pflash.schemas.DocumentError;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PDone;

/**
 * The whole classification job as one composite transform: match files, extract their text,
 * build and tokenize prompts (the instructions and label list are the shared prefix), batch them,
 * score every label on each prompt, and write the results, timings and errors tables. Every
 * matched file ends as exactly one result row or one error row.
 */
public class ClassifyPipeline extends PTransform<PBegin, PDone> {
    private final ClassifyConfig config;

    public ClassifyPipeline(ClassifyConfig config) {
        this.config = config;
    }

    @Override
    public PDone expand(PBegin begin) {
        String runId = config.runId();
        PCollectionTuple batched = begin.apply("BatchDocuments", new BatchDocuments(runId, config.input(),
                config.limits(), config.template(), config.engine(), config.opener(), config.batchTokens(), config.done()));
        PCollectionTuple scored = batched.get(BatchDocuments.BATCHES)
                .apply("ScoreLabels", new ScoreLabels(runId, config.engine(), config.opener(), config.labels()));
        PCollectionTuple rows = scored.get(ScoreLabels.CLASSIFICATIONS).apply("ToRows", new ClassificationRows(runId));
        PCollection<DocumentError> errors = PCollectionList.of(batched.get(BatchDocuments.ERRORS))
                .and(scored.get(ScoreLabels.ERRORS))
                .apply("AllErrors", Flatten.pCollections());

        return PCollectionTuple.of(OutputTables.CLASSIFICATIONS, rows.get(OutputTables.CLASSIFICATIONS))
                .and(OutputTables.TIMINGS, rows.get(OutputTables.TIMINGS))
                .and(OutputTables.ERRORS, errors)
                .apply("WriteResults", new WriteResults(config.output(), config.runId(), OutputTables.CLASSIFICATIONS,
                        ClassifyResult.getClassSchema()));
    }
}
