package dev.pflash.pipeline.output;

import dev.pflash.pipeline.classify.DocumentClassification;
import dev.pflash.pipeline.classify.ScoredLabel;
import dev.pflash.pipeline.generate.EngineUsage;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.schemas.ClassifyResult;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.LabelScoreRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Turns each classified document into its row of the classify results table
 * ({@link OutputTables#CLASSIFICATIONS}) and its row of the timings table
 * ({@link OutputTables#TIMINGS}, where {@code decode_ms} is the label scoring).
 */
public class ClassificationRows extends PTransform<PCollection<DocumentClassification>, PCollectionTuple> {
    private final String runId;

    public ClassificationRows(String runId) {
        this.runId = runId;
    }

    @Override
    public PCollectionTuple expand(PCollection<DocumentClassification> classifications) {
        PCollectionTuple rows = classifications.apply("ToRows", ParDo.of(new ToRowsFn(runId))
                .withOutputTags(OutputTables.CLASSIFICATIONS, TupleTagList.of(OutputTables.TIMINGS)));
        rows.get(OutputTables.CLASSIFICATIONS).setCoder(AvroCoder.of(ClassifyResult.class));
        rows.get(OutputTables.TIMINGS).setCoder(AvroCoder.of(DocumentTimings.class));
        return rows;
    }

    public static ClassifyResult toResult(String runId, DocumentClassification c) {
        DocumentMeta meta = c.meta();
        EngineUsage usage = c.usage();
        ModelIdentity model = c.model();
        ScoredLabel top = c.top();
        return ClassifyResult.newBuilder()
                .setRunId(runId)
                .setDocId(meta.docId())
                .setUri(meta.uri())
                .setSha256(meta.sha256())
                .setContentType(meta.contentType())
                .setTitle(meta.title())
                .setAuthor(meta.author())
                .setLanguage(meta.language())
                .setPageCount(meta.pageCount())
                .setSizeBytes(meta.sizeBytes())
                .setChars(meta.chars())
                .setTextTruncated(meta.truncated())
                .setTopLabel(top.label())
                .setTopProbability(top.probability())
                .setLabelScores(c.scores().stream()
                        .map(s -> new LabelScoreRecord(s.label(), s.probability(), s.logLikelihood(), s.tokens()))
                        .toList())
                .setPromptTokens(c.promptTokens())
                .setPrefixTokens(c.prefixTokens())
                .setBodyTokens(c.bodyTokens())
                .setSuffixTokens(c.suffixTokens())
                .setKeptTokens(usage.keptBodyTokens())
                .setPrefixTokensReused(usage.prefixTokensReused())
                .setLabelTokens(c.labelTokens())
                .setKeySpans(usage.keySpans().stream().map(SummaryRows::toRecord).toList())
                .setTargetModel(model.targetModel())
                .setTargetSha256(model.targetSha256())
                .setDrafterModel(model.drafterModel())
                .setDrafterSha256(model.drafterSha256())
                .setBackend(model.backend())
                .setDemoModels(model.demoModels())
                .setTtftMs(usage.ttftMs())
                .setScoreMs(usage.decodeMs())
                .setCompressionDecision(usage.compressionDecision())
                .setPredictedDenseTtftMs(SummaryRows.predicted(usage))
                .setTtftSavedMs(usage.ttftSavedMs())
                .build();
    }

    private static final class ToRowsFn extends DoFn<DocumentClassification, ClassifyResult> {
        private final String runId;

        ToRowsFn(String runId) {
            this.runId = runId;
        }

        @ProcessElement
        public void process(@Element DocumentClassification c, MultiOutputReceiver out) {
            out.get(OutputTables.CLASSIFICATIONS).output(toResult(runId, c));
            out.get(OutputTables.TIMINGS).output(TimingRows.of(runId, c.meta(), c.tokenizeMs(), c.usage(),
                    c.batchSize()));
        }
    }
}
