package dev.pflash.pipeline;

import dev.pflash.pipeline.extract.ExtractText;
import dev.pflash.pipeline.extract.ExtractionError;
import dev.pflash.pipeline.generate.PrefillAndGenerate;
import dev.pflash.pipeline.group.GroupPrompts;
import dev.pflash.pipeline.output.ErrorRows;
import dev.pflash.pipeline.output.OutputTables;
import dev.pflash.pipeline.output.SummaryRows;
import dev.pflash.pipeline.output.WriteResults;
import dev.pflash.pipeline.prompt.BuildPrompts;
import dev.pflash.schemas.DocumentError;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Distinct;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;

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
        PCollection<FileIO.ReadableFile> files = begin
                .apply("Patterns", Create.of(config.input()))
                .apply("MatchFiles", FileIO.matchAll().withEmptyMatchTreatment(EmptyMatchTreatment.ALLOW))
                .apply("OncePerFile", Distinct.<MatchResult.Metadata, String>withRepresentativeValueFn(
                        m -> m.resourceId().toString()).withRepresentativeType(TypeDescriptors.strings()))
                .apply("ReadMatches", FileIO.readMatches());

        PCollectionTuple extracted = files.apply("ExtractText", ExtractText.withLimits(config.limits()));
        PCollectionTuple prompts = extracted.get(ExtractText.DOCUMENTS)
                .apply("BuildPrompts", new BuildPrompts(runId, config.template(), config.engine(), config.opener()));
        PCollectionTuple generated = prompts.get(BuildPrompts.PROMPTS)
                .apply("GroupPrompts", new GroupPrompts(config.batchTokens()))
                .apply("PrefillAndGenerate", new PrefillAndGenerate(runId, config.engine(), config.opener(),
                        config.template(), config.decode(), config.contextTokens()));
        PCollectionTuple rows = generated.get(PrefillAndGenerate.SUMMARIES).apply("ToRows", new SummaryRows(runId));

        PCollection<DocumentError> extractionErrors = extracted.get(ExtractText.ERRORS)
                .apply("ExtractionErrorRows", MapElements.into(TypeDescriptor.of(DocumentError.class))
                        .via((ExtractionError e) -> ErrorRows.fromExtraction(runId, e)))
                .setCoder(AvroCoder.of(DocumentError.class));
        PCollection<DocumentError> errors = PCollectionList.of(extractionErrors)
                .and(prompts.get(BuildPrompts.ERRORS))
                .and(generated.get(PrefillAndGenerate.ERRORS))
                .apply("AllErrors", Flatten.pCollections());

        return PCollectionTuple.of(OutputTables.RESULTS, rows.get(OutputTables.RESULTS))
                .and(OutputTables.TIMINGS, rows.get(OutputTables.TIMINGS))
                .and(OutputTables.ERRORS, errors)
                .apply("WriteResults", new WriteResults(config.output()));
    }
}
