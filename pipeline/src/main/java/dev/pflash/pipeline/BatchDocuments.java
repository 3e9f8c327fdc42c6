package dev.pflash.pipeline;

import dev.pflash.pipeline.extract.ExtractText;
import dev.pflash.pipeline.flow.AdmitFiles;
import dev.pflash.pipeline.flow.MatchPatterns;
import dev.pflash.pipeline.extract.ExtractionError;
import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.group.GroupPrompts;
import dev.pflash.pipeline.output.ErrorRows;
import dev.pflash.pipeline.prompt.BuildPrompts;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.pipeline.resume.DoneDocuments;
import dev.pflash.pipeline.resume.SkipDoneFiles;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.schemas.DocumentError;
import java.util.List;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * The front of every document job: match the file patterns, let the files in a bounded number at a
 * time ({@link AdmitFiles}; a file matched by several patterns is read once), extract each file's
 * text with Tika, fill the template and tokenize
 * ({@link BuildPrompts}), and group the prompts into engine batches that share a prefix
 * ({@link GroupPrompts}). Each file becomes a prompt in one of the {@link #BATCHES} or a row of
 * the errors table ({@link #ERRORS}), unless its content already has a row for these settings
 * ({@link SkipDoneFiles}).
 */
public class BatchDocuments extends PTransform<PBegin, PCollectionTuple> {
    public static final TupleTag<KV<String, Iterable<DocumentPrompt>>> BATCHES = new TupleTag<>() {
    };
    public static final TupleTag<DocumentError> ERRORS = new TupleTag<>() {
    };

    private final String runId;
    private final List<String> patterns;
    private final ExtractionLimits limits;
    private final PromptTemplate template;
    private final EngineConfig engine;
    private final EngineOpener opener;
    private final long batchTokens;
    private final DoneDocuments done;

    public BatchDocuments(String runId, List<String> patterns, ExtractionLimits limits, PromptTemplate template,
            EngineConfig engine, EngineOpener opener, long batchTokens, DoneDocuments done) {
        this.runId = runId;
        this.patterns = List.copyOf(patterns);
        this.limits = limits;
        this.template = template;
        this.engine = engine;
        this.opener = opener;
        this.batchTokens = batchTokens;
        this.done = done;
    }

    @Override
    public PCollectionTuple expand(PBegin begin) {
        PCollection<FileIO.ReadableFile> files = begin
                .apply("Patterns", Create.of(patterns))
                .apply("MatchFiles", ParDo.of(new MatchPatterns()))
                .apply("ReadMatches", FileIO.readMatches())
                .apply("SkipDone", ParDo.of(new SkipDoneFiles(done)))
                .apply("AdmitFiles", new AdmitFiles(runId));
        PCollectionTuple extracted = files.apply("ExtractText", ExtractText.withLimits(limits));
        PCollectionTuple prompts = extracted.get(ExtractText.DOCUMENTS)
                .apply("BuildPrompts", new BuildPrompts(runId, template, engine, opener));
        PCollection<KV<String, Iterable<DocumentPrompt>>> batches = prompts.get(BuildPrompts.PROMPTS)
                .apply("GroupPrompts", new GroupPrompts(batchTokens));

        String run = runId;
        PCollection<DocumentError> extractionErrors = extracted.get(ExtractText.ERRORS)
                .apply("ExtractionErrorRows", MapElements.into(TypeDescriptor.of(DocumentError.class))
                        .via((ExtractionError e) -> ErrorRows.fromExtraction(run, e)))
                .setCoder(AvroCoder.of(DocumentError.class));
        PCollection<DocumentError> errors = PCollectionList.of(extractionErrors)
                .and(prompts.get(BuildPrompts.ERRORS))
                .apply("FrontErrors", Flatten.pCollections());
        return PCollectionTuple.of(BATCHES, batches).and(ERRORS, errors);
    }
}
