package dev.pflash.pipeline.classify;

import dev.pflash.pipeline.generate.BatchCall;
import dev.pflash.pipeline.generate.EngineHolder;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.generate.EngineUsage;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.output.ErrorRows;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.runtime.engine.Classification;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
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
 * Scores every label on each batch of prompts through the shared engine: the batch is prefilled
 * together (its shared prefix once) and each prompt's KV serves all labels. A prompt that fails
 * (too long for the context window, for one) becomes an error row ({@link #ERRORS}, stage
 * {@value #STAGE}) and the rest of the batch goes on.
 */
public class ScoreLabels extends PTransform<PCollection<KV<String, Iterable<DocumentPrompt>>>, PCollectionTuple> {
    public static final String STAGE = "classify";
    public static final TupleTag<DocumentClassification> CLASSIFICATIONS = new TupleTag<>() {
    };
    public static final TupleTag<DocumentError> ERRORS = new TupleTag<>() {
    };

    private final String runId;
    private final EngineConfig engineConfig;
    private final EngineOpener opener;
    private final LabelSet labels;

    public ScoreLabels(String runId, EngineConfig engineConfig, EngineOpener opener, LabelSet labels) {
        this.runId = runId;
        this.engineConfig = engineConfig;
        this.opener = opener;
        this.labels = labels;
    }

    @Override
    public PCollectionTuple expand(PCollection<KV<String, Iterable<DocumentPrompt>>> batches) {
        PCollectionTuple out = batches.apply("Classify", ParDo.of(new ClassifyFn(runId, engineConfig, opener, labels))
                .withOutputTags(CLASSIFICATIONS, TupleTagList.of(ERRORS)));
        out.get(ERRORS).setCoder(AvroCoder.of(DocumentError.class));
        return out;
    }

    private static final class ClassifyFn extends DoFn<KV<String, Iterable<DocumentPrompt>>, DocumentClassification> {
        private final String runId;
        private final EngineConfig engineConfig;
        private final EngineOpener opener;
        private final List<String> labels;
        private final Counter batches = Metrics.counter(ScoreLabels.class, "batches");

        private transient EngineHolder.Lease lease;
        private transient Engine engine;
        private transient ModelIdentity model;

        ClassifyFn(String runId, EngineConfig engineConfig, EngineOpener opener, LabelSet labels) {
            this.runId = runId;
            this.engineConfig = engineConfig;
            this.opener = opener;
            this.labels = new ArrayList<>(labels.names());
        }

        @Setup
        public void setup() {
            lease = EngineHolder.acquire(engineConfig, opener);
            engine = lease.engine();
            model = ModelIdentity.of(engine.info());
        }

        @ProcessElement
        public void process(@Element KV<String, Iterable<DocumentPrompt>> batch, MultiOutputReceiver out) {
            List<DocumentPrompt> prompts = new ArrayList<>();
            batch.getValue().forEach(prompts::add);
            batches.inc();
            BatchCall.run(prompts, enginePrompts -> engine.classifyBatch(enginePrompts, labels), (prompt, outcome) -> {
                if (outcome.isOk()) {
                    emit(prompt, outcome.result(), prompts.size(), out);
                } else {
                    fail(prompt, outcome.error(), out);
                }
            }, (prompt, error) -> fail(prompt, error, out));
        }

        private void emit(DocumentPrompt prompt, Classification c, int batchSize, MultiOutputReceiver out) {
            List<ScoredLabel> scores = c.labels().stream().map(ScoredLabel::of).toList();
            out.get(CLASSIFICATIONS).output(new DocumentClassification(prompt.meta(), prompt.tokenizeMs(),
                    prompt.length(), prompt.prefixLength(), prompt.bodyLength(), prompt.suffixLength(), scores,
                    c.labelTokens(), EngineUsage.of(c), model, batchSize));
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
