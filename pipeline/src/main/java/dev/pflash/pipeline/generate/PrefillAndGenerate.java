package dev.pflash.pipeline.generate;

import dev.pflash.pipeline.output.ErrorRows;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.ContextOverflowException;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineInfo;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.schemas.DocumentError;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Runs each batch of prompts through the shared engine: prompts that fit the context window go to
 * the engine as one batch; longer ones are summarized in windows ({@link WindowedSummarizer}).
 * A prompt that fails becomes an error row ({@link #ERRORS}, stage {@value #STAGE}) and the rest
 * of the batch goes on.
 */
public class PrefillAndGenerate
        extends PTransform<PCollection<KV<String, Iterable<DocumentPrompt>>>, PCollectionTuple> {
    public static final String STAGE = "generate";
    public static final TupleTag<DocumentSummary> SUMMARIES = new TupleTag<>() {
    };
    public static final TupleTag<DocumentError> ERRORS = new TupleTag<>() {
    };

    private final String runId;
    private final EngineConfig engineConfig;
    private final EngineOpener opener;
    private final PromptTemplate template;
    private final DecodeSettings decode;
    private final int contextTokens;

    /**
     * {@code contextTokens} caps the context window prompts must fit (0: the target's own window);
     * {@code template} builds the prompt that summarizes the window summaries of a long document.
     */
    public PrefillAndGenerate(String runId, EngineConfig engineConfig, EngineOpener opener, PromptTemplate template,
            DecodeSettings decode, int contextTokens) {
        if (contextTokens < 0) {
            throw new IllegalArgumentException("context tokens must be 0 (the model's window) or more, got "
                    + contextTokens);
        }
        this.runId = runId;
        this.engineConfig = engineConfig;
        this.opener = opener;
        this.template = template;
        this.decode = decode;
        this.contextTokens = contextTokens;
    }

    @Override
    public PCollectionTuple expand(PCollection<KV<String, Iterable<DocumentPrompt>>> batches) {
        PCollectionTuple out = batches.apply("Generate",
                ParDo.of(new GenerateFn(runId, engineConfig, opener, template, decode, contextTokens))
                        .withOutputTags(SUMMARIES, TupleTagList.of(ERRORS)));
        out.get(ERRORS).setCoder(AvroCoder.of(DocumentError.class));
        return out;
    }

    private static final class GenerateFn extends DoFn<KV<String, Iterable<DocumentPrompt>>, DocumentSummary> {
        private final String runId;
        private final EngineConfig engineConfig;
        private final EngineOpener opener;
        private final PromptTemplate template;
        private final DecodeSettings decode;
        private final int contextCap;
        private final Counter batches = Metrics.counter(PrefillAndGenerate.class, "batches");
        private final Counter splitDocuments = Metrics.counter(PrefillAndGenerate.class, "split_documents");

        private transient EngineHolder.Lease lease;
        private transient Engine engine;
        private transient ModelIdentity model;
        private transient GenerationSettings settings;
        private transient int contextTokens;
        private transient WindowedSummarizer windowed;

        GenerateFn(String runId, EngineConfig engineConfig, EngineOpener opener, PromptTemplate template,
                DecodeSettings decode, int contextCap) {
            this.runId = runId;
            this.engineConfig = engineConfig;
            this.opener = opener;
            this.template = template;
            this.decode = decode;
            this.contextCap = contextCap;
        }

        @Setup
        public void setup() {
            lease = EngineHolder.acquire(engineConfig, opener);
            engine = lease.engine();
            EngineInfo info = engine.info();
            model = ModelIdentity.of(info);
            settings = decode.toGenerationSettings();
            contextTokens = WindowPlan.contextWindow(info.contextLength(), contextCap);
            windowed = new WindowedSummarizer(engine, template, settings, contextTokens);
        }

        @ProcessElement
        public void process(@Element KV<String, Iterable<DocumentPrompt>> batch, MultiOutputReceiver out) {
            List<DocumentPrompt> fitting = new ArrayList<>();
            List<DocumentPrompt> tooLong = new ArrayList<>();
            int size = 0;
            for (DocumentPrompt prompt : batch.getValue()) {
                size++;
                (compressesToFit() || WindowPlan.fits(prompt.length(), settings.maxNewTokens(), contextTokens)
                        ? fitting : tooLong).add(prompt);
            }
            batches.inc();
            generateFitting(fitting, size, out, tooLong);
            for (DocumentPrompt prompt : tooLong) {
                splitDocuments.inc();
                try {
                    emit(prompt, windowed.summarize(prompt), size, out);
                } catch (RuntimeException e) {
                    fail(prompt, e, out);
                }
            }
        }

        /**
         * With PFlash on, the engine compresses a body that does not fit the target's own window, so
         * only a user's tighter --context-tokens cap (or compression off) leaves splitting to us.
         */
        private boolean compressesToFit() {
            return contextCap == 0 && engineConfig.drafter() != null
                    && engineConfig.compression().mode() != CompressionSettings.Mode.OFF;
        }

        /** Runs the prompts as one engine batch; one the engine could not fit joins {@code tooLong}. */
        private void generateFitting(List<DocumentPrompt> prompts, int batchSize, MultiOutputReceiver out,
                List<DocumentPrompt> tooLong) {
            if (prompts.isEmpty()) {
                return;
            }
            BatchCall.run(prompts, enginePrompts -> engine.generateBatch(enginePrompts, settings), (prompt, outcome) -> {
                if (outcome.isOk()) {
                    boolean fitted = WindowPlan.fits(prompt.length(), settings.maxNewTokens(), contextTokens);
                    emit(prompt, single(outcome.result(), fitted ? FitStrategy.NONE : FitStrategy.COMPRESS), batchSize,
                            out);
                } else if (outcome.error() instanceof ContextOverflowException) {
                    tooLong.add(prompt);
                } else {
                    fail(prompt, outcome.error(), out);
                }
            }, (prompt, error) -> fail(prompt, error, out));
        }

        private static GenerationRun single(EngineResult result, FitStrategy fit) {
            UsageAccumulator usage = new UsageAccumulator();
            usage.addBodyCall(result, 0);
            return new GenerationRun(result.text(), result.generatedTokens(), result.finishReason().name(),
                    result.tokens().generated(), fit, 1, usage.build());
        }

        private void emit(DocumentPrompt prompt, GenerationRun run, int batchSize, MultiOutputReceiver out) {
            out.get(SUMMARIES).output(new DocumentSummary(prompt.meta(), prompt.tokenizeMs(), prompt.length(),
                    prompt.prefixLength(), prompt.bodyLength(), prompt.suffixLength(), run, model, batchSize));
        }

        private void fail(DocumentPrompt prompt, Throwable error, MultiOutputReceiver out) {
            out.get(ERRORS).output(ErrorRows.of(runId, prompt.meta().docId(), prompt.meta().uri(), prompt.meta().sha256(), STAGE, error));
        }

        @Teardown
        public void teardown() {
            if (lease != null) {
                lease.close();
            }
        }
    }
}
