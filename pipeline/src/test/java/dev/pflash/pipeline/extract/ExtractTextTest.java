package dev.pflash.pipeline.extract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.extract.SampleFiles.BadFile;
import dev.pflash.pipeline.extract.SampleFiles.Sample;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Rule;
import org.junit.Test;

/** Runs on Beam's TestPipeline, whose JUnit 4 rule checks that the pipeline ran (JUnit Vintage runs it). */
public class ExtractTextTest {
    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();

    @Test
    public void everyFileBecomesExactlyOneDocumentOrOneError() throws Exception {
        PCollection<FileIO.ReadableFile> files = pipeline
                .apply(Create.of(SampleFiles.DOCS + "/*", SampleFiles.BAD + "/*"))
                .apply(FileIO.matchAll())
                .apply(FileIO.readMatches());

        PCollectionTuple extracted = files.apply(ExtractText.withDefaultLimits());

        PCollection<ExtractedDocument> documents = extracted.get(ExtractText.DOCUMENTS);
        PAssert.that(documents.apply("DocIds", MapElements.into(TypeDescriptors.strings()).via(ExtractedDocument::docId)))
                .containsInAnyOrder(SampleFiles.SAMPLES.stream()
                        .map(sample -> DocumentIds.forUri(SampleFiles.uriOf(sample.path()))).toList());
        PAssert.that(documents.apply("FileAndPhrase", MapElements.into(TypeDescriptors.strings())
                        .via(ExtractTextTest::fileAndPhraseFound)))
                .containsInAnyOrder(SampleFiles.SAMPLES.stream().map(sample -> sample.file() + " has its phrase").toList());
        PAssert.that(extracted.get(ExtractText.ERRORS).apply("ErrorSummaries",
                        MapElements.into(TypeDescriptors.strings()).via(ExtractTextTest::summary)))
                .containsInAnyOrder(SampleFiles.BAD_FILES.stream().map(ExtractTextTest::expectedSummary).toList());

        PipelineResult result = pipeline.run();
        result.waitUntilFinish();

        assertThat(counter(result, "documentsExtracted")).isEqualTo(SampleFiles.SAMPLES.size());
        assertThat(counter(result, "documentsFailed")).isEqualTo(SampleFiles.BAD_FILES.size());
        assertThat(counter(result, "documentsTruncated")).isZero();
        assertThat(counter(result, "charactersExtracted")).isEqualTo(charactersOfAllSamples());
    }

    private static String fileAndPhraseFound(ExtractedDocument document) {
        String file = document.uri().substring(document.uri().lastIndexOf('/') + 1);
        Sample sample = SampleFiles.SAMPLES.stream().filter(s -> s.file().equals(file)).findFirst().orElseThrow();
        boolean found = SampleFiles.wordsOf(document.text()).contains(sample.phrase());
        return file + (found ? " has its phrase" : " lacks its phrase");
    }

    private static String summary(ExtractionError error) {
        String file = error.uri().substring(error.uri().lastIndexOf('/') + 1);
        boolean namesFile = error.message().startsWith(error.uri() + ": ")
                && error.docId().equals(DocumentIds.forUri(error.uri()));
        return file + " | " + error.stage() + " | " + error.errorClass() + " | " + (namesFile ? "names the file" : "");
    }

    private static String expectedSummary(BadFile bad) {
        return bad.file() + " | extract | " + bad.errorClass() + " | names the file";
    }

    private static long charactersOfAllSamples() throws Exception {
        TikaTextExtractor extractor = new TikaTextExtractor(ExtractionLimits.defaults());
        long total = 0;
        for (Sample sample : SampleFiles.SAMPLES) {
            try (InputStream in = Files.newInputStream(sample.path())) {
                total += extractor.extract(SampleFiles.uriOf(sample.path()), in).chars();
            }
        }
        return total;
    }

    private static long counter(PipelineResult result, String name) {
        MetricQueryResults metrics = result.metrics().queryMetrics(MetricsFilter.builder()
                .addNameFilter(MetricNameFilter.named(ExtractText.class, name)).build());
        List<Long> values = new ArrayList<>();
        metrics.getCounters().forEach(counter -> values.add(counter.getAttempted()));
        assertThat(values).as("counter %s", name).hasSizeLessThanOrEqualTo(1);
        // a counter that was never incremented is not reported at all
        return values.isEmpty() ? 0 : values.get(0);
    }
}
