package dev.pflash.pipeline.prompt;

import dev.pflash.pipeline.extract.ExtractedDocument;
import dev.pflash.pipeline.generate.EngineHolder;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.output.ErrorRows;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.schemas.DocumentError;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Fills the template with each document's text and tokenizes it with the target's tokenizer and
 * chat template, segment by segment. A document with no text, or whose text the tokenizer
 * rejects, becomes an error row ({@link #ERRORS}, stage {@value #STAGE}).
 */
public class BuildPrompts extends PTransform<PCollection<ExtractedDocument>, PCollectionTuple> {
    public static final String STAGE = "prompt";
    public static final TupleTag<DocumentPrompt> PROMPTS = new TupleTag<>() {
    };
    public static final TupleTag<DocumentError> ERRORS = new TupleTag<>() {
    };

    private final String runId;
    private final PromptTemplate template;
    private final EngineConfig engineConfig;
    private final EngineOpener opener;

    public BuildPrompts(String runId, PromptTemplate template, EngineConfig engineConfig, EngineOpener opener) {
        this.runId = runId;
        this.template = template;
        this.engineConfig = engineConfig;
        this.opener = opener;
    }

    @Override
    public PCollectionTuple expand(PCollection<ExtractedDocument> documents) {
        PCollectionTuple out = documents.apply("Tokenize",
                ParDo.of(new TokenizeFn(runId, template, engineConfig, opener))
                        .withOutputTags(PROMPTS, TupleTagList.of(ERRORS)));
        out.get(ERRORS).setCoder(AvroCoder.of(DocumentError.class));
        return out;
    }

    private static final class TokenizeFn extends DoFn<ExtractedDocument, DocumentPrompt> {
        private final String runId;
        private final PromptTemplate template;
        private final EngineConfig engineConfig;
        private final EngineOpener opener;
        private transient EngineHolder.Lease lease;
        private transient Engine engine;

        TokenizeFn(String runId, PromptTemplate template, EngineConfig engineConfig, EngineOpener opener) {
            this.runId = runId;
            this.template = template;
            this.engineConfig = engineConfig;
            this.opener = opener;
        }

        @Setup
        public void setup() {
            lease = EngineHolder.acquire(engineConfig, opener);
            engine = lease.engine();
        }

        @ProcessElement
        public void process(@Element ExtractedDocument document, MultiOutputReceiver out) {
            if (document.text().isBlank()) {
                out.get(ERRORS).output(ErrorRows.of(runId, document.docId(), document.uri(), document.sha256(), STAGE,
                        new IllegalArgumentException(document.uri() + ": no text was extracted, so there is nothing"
                                + " to summarize")));
                return;
            }
            try {
                long start = System.nanoTime();
                Prompt prompt = engine.tokenize(document.docId(), template.fill(document.text()));
                double tokenizeMs = (System.nanoTime() - start) / 1e6;
                out.get(PROMPTS).output(DocumentPrompt.of(DocumentMeta.of(document), prompt, tokenizeMs));
            } catch (RuntimeException e) {
                out.get(ERRORS).output(ErrorRows.of(runId, document.docId(), document.uri(), document.sha256(), STAGE, e));
            }
        }

        @Teardown
        public void teardown() {
            if (lease != null) {
                lease.close();
            }
        }
    }
}
