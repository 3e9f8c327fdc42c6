package dev.pflash.pipeline.output;

import dev.pflash.pipeline.generate.DocumentSummary;
import dev.pflash.pipeline.generate.EngineUsage;
import dev.pflash.pipeline.generate.GenerationRun;
import dev.pflash.pipeline.generate.KeptSpan;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.KeySpanRecord;
import dev.pflash.schemas.SummaryResult;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Turns each summarized document into its row of the results table ({@link OutputTables#RESULTS})
 * and its row of the timings table ({@link OutputTables#TIMINGS}).
 */
public class SummaryRows extends PTransform<PCollection<DocumentSummary>, PCollectionTuple> {
    private final String runId;

    public SummaryRows(String runId) {
        this.runId = runId;
    }

    @Override
    public PCollectionTuple expand(PCollection<DocumentSummary> summaries) {
        PCollectionTuple rows = summaries.apply("ToRows", ParDo.of(new ToRowsFn(runId))
                .withOutputTags(OutputTables.RESULTS, TupleTagList.of(OutputTables.TIMINGS)));
        rows.get(OutputTables.RESULTS).setCoder(AvroCoder.of(SummaryResult.class));
        rows.get(OutputTables.TIMINGS).setCoder(AvroCoder.of(DocumentTimings.class));
        return rows;
    }

    public static SummaryResult toResult(String runId, DocumentSummary summary) {
        DocumentMeta meta = summary.meta();
        GenerationRun run = summary.run();
        EngineUsage usage = run.usage();
        ModelIdentity model = summary.model();
        List<KeySpanRecord> spans = usage.keySpans().stream().map(SummaryRows::toRecord).toList();
        return SummaryResult.newBuilder()
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
                .setPromptTokens(summary.promptTokens())
                .setPrefixTokens(summary.prefixTokens())
                .setBodyTokens(summary.bodyTokens())
                .setSuffixTokens(summary.suffixTokens())
                .setKeptTokens(usage.keptBodyTokens())
                .setPrefixTokensReused(usage.prefixTokensReused())
                .setGeneratedTokens(run.summaryTokens())
                .setKeySpans(spans)
                .setSummary(run.summary())
                .setFinishReason(run.finishReason())
                .setFitStrategy(run.fitStrategy().columnValue())
                .setWindows(run.windows())
                .setTargetModel(model.targetModel())
                .setTargetSha256(model.targetSha256())
                .setDrafterModel(model.drafterModel())
                .setDrafterSha256(model.drafterSha256())
                .setBackend(model.backend())
                .setDemoModels(model.demoModels())
                .setTtftMs(usage.ttftMs())
                .setCompressionDecision(usage.compressionDecision())
                .setPredictedDenseTtftMs(predicted(usage))
                .setTtftSavedMs(usage.ttftSavedMs())
                .setSummaryTokenIds(Arrays.stream(run.summaryTokenIds()).boxed().toList())
                .build();
    }

    /** The predicted dense prefill as the tables store it: null where the engine did not predict it. */
    static Double predicted(EngineUsage usage) {
        return Double.isNaN(usage.predictedDenseMs()) ? null : usage.predictedDenseMs();
    }

    public static DocumentTimings toTimings(String runId, DocumentSummary summary) {
        return TimingRows.of(runId, summary.meta(), summary.tokenizeMs(), summary.run().usage(), summary.batchSize());
    }

    /** A kept span as the results tables store it. */
    static KeySpanRecord toRecord(KeptSpan span) {
        return new KeySpanRecord(span.start(), span.end(), span.score());
    }

    private static final class ToRowsFn extends DoFn<DocumentSummary, SummaryResult> {
        private final String runId;

        ToRowsFn(String runId) {
            this.runId = runId;
        }

        @ProcessElement
        public void process(@Element DocumentSummary summary, MultiOutputReceiver out) {
            out.get(OutputTables.RESULTS).output(toResult(runId, summary));
            out.get(OutputTables.TIMINGS).output(toTimings(runId, summary));
        }
    }
}
