package dev.pflash.pipeline.extract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pflash.pipeline.extract.SampleFiles.BadFile;
import dev.pflash.pipeline.extract.SampleFiles.Sample;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TikaTextExtractorTest {
    private static final TikaTextExtractor DEFAULTS = new TikaTextExtractor(ExtractionLimits.defaults());

    static Stream<Sample> samples() {
        return SampleFiles.SAMPLES.stream();
    }

    static Stream<BadFile> badFiles() {
        return SampleFiles.BAD_FILES.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void extractsTextAndMetadataOfEachSampleFormat(Sample sample) throws Exception {
        Path file = sample.path();
        String uri = SampleFiles.uriOf(file);

        ExtractedDocument document = extract(DEFAULTS, file);

        assertThat(SampleFiles.wordsOf(document.text())).contains(sample.phrase());
        assertThat(document.contentType()).isEqualTo(sample.contentType());
        assertThat(document.title()).isEqualTo(sample.title());
        assertThat(document.author()).isEqualTo(sample.author());
        assertThat(document.language()).isEqualTo(sample.language());
        assertThat(document.pageCount()).isEqualTo(sample.pageCount());
        assertThat(document.uri()).isEqualTo(uri);
        assertThat(document.docId()).isEqualTo(DocumentIds.forUri(uri));
        assertThat(document.sha256()).isEqualTo(DocumentIds.sha256Hex(Files.readAllBytes(file)));
        assertThat(document.sizeBytes()).isEqualTo(Files.size(file));
        assertThat(document.chars()).isEqualTo(document.text().length());
        assertThat(document.text()).isEqualTo(document.text().strip());
        assertThat(document.truncated()).isFalse();
        assertThat(document.extractMs()).isPositive();
    }

    @Test
    void eachKnownPhraseBelongsToExactlyOneSample() throws Exception {
        Map<String, String> wordsByFile = new HashMap<>();
        for (Sample sample : SampleFiles.SAMPLES) {
            wordsByFile.put(sample.file(), SampleFiles.wordsOf(extract(DEFAULTS, sample.path()).text()));
        }
        for (Sample sample : SampleFiles.SAMPLES) {
            assertThat(wordsByFile).as("files containing \"%s\"", sample.phrase())
                    .allSatisfy((file, words) -> assertThat(words.contains(sample.phrase()))
                            .as(file).isEqualTo(file.equals(sample.file())));
        }
    }

    @Test
    void decodesWindows1252TextWithAccentsAndSymbols() throws Exception {
        String text = extract(DEFAULTS, SampleFiles.DOCS.resolve("cafe-notes-cp1252.txt")).text();

        assertThat(text).startsWith("Café Lindenhof: recipe notes for the pastry bench")
                .contains("1. Crème brûlée (serves 8)")
                .contains("Apfelstrudel from the Straße café recipe")
                .contains("Frau Weiß at the little café on Lindenstraße")
                .contains("to 80 °C (±2 °C)")
                .contains("Déjà vu")
                .contains("a crème brûlée\n5,50 €")
                .contains("½ price")
                .doesNotContain("\u0080", "\uFFFD", "Ã");
    }

    @Test
    void decodesUtf8Markdown() throws Exception {
        String text = extract(DEFAULTS, SampleFiles.DOCS.resolve("library-volunteer-handbook.md")).text();

        assertThat(text).startsWith("# Ashgrove Community Library: Volunteer Handbook")
                .contains("the shift lead — or Zoë Hart, the volunteer coordinator — about");
    }

    @Test
    void theLongSampleIsOverTwentyPagesOfProse() throws Exception {
        ExtractedDocument guide = extract(DEFAULTS, SampleFiles.DOCS.resolve("moss-field-guide.pdf"));

        assertThat(guide.pageCount()).isEqualTo(40);
        assertThat(guide.text().split("\\s+")).hasSizeGreaterThan(10_000);
        assertThat(SampleFiles.wordsOf(guide.text()))
                .contains("Polytrichum commune", "Buxbaumia aphylla", "Appendix B. Glossary");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void eachBadFileFailsInTheExtractStageNamingFileAndProblem(BadFile bad) {
        String uri = SampleFiles.uriOf(bad.path());

        ExtractionException failure = catchThrowableOfType(ExtractionException.class, () -> extract(DEFAULTS, bad.path()));

        assertThat(failure).as("%s must fail", bad.file()).isNotNull();
        assertThat(failure.uri()).isEqualTo(uri);
        assertThat(failure.getMessage()).startsWith(uri + ": ");
        assertThat(failure.getMessage()).contains(bad.messageParts());
        assertThat(failure.errorClass()).isEqualTo(bad.errorClass());
        ExtractionError error = ExtractionError.of(failure, null);
        assertThat(error.stage()).isEqualTo("extract");
        assertThat(error.uri()).isEqualTo(uri);
        assertThat(error.docId()).isEqualTo(DocumentIds.forUri(uri));
        assertThat(error.errorClass()).isEqualTo(bad.errorClass());
        assertThat(error.message()).isEqualTo(failure.getMessage());
        assertThat(error.timeMillis()).isPositive();
    }

    @Test
    void zipBombIsStoppedAtTheThresholdInsteadOfInflatingEverything() throws IOException {
        Path bomb = SampleFiles.BAD.resolve("bomb.zip");

        ExtractionException failure = catchThrowableOfType(ExtractionException.class, () -> extract(DEFAULTS, bomb));

        // The archive inflates to 128 MiB of text; the guard must fire right after 1,000,000 chars.
        Matcher produced = Pattern.compile("(\\d+) input bytes produced (\\d+) output characters")
                .matcher(failure.getMessage());
        assertThat(produced.find()).as(failure.getMessage()).isTrue();
        assertThat(Long.parseLong(produced.group(1))).isEqualTo(Files.size(bomb));
        assertThat(Long.parseLong(produced.group(2))).isBetween(1_000_001L, 1_100_000L);
    }

    @Test
    void nestingDeeperThanTheLimitFails() throws Exception {
        TikaTextExtractor shallow = new TikaTextExtractor(ExtractionLimits.defaults().withMaxNestingDepth(1));

        // bomb.zip holds inner.zip (level 1) which holds filler.txt (level 2)
        assertThatThrownBy(() -> extract(shallow, SampleFiles.BAD.resolve("bomb.zip")))
                .isInstanceOf(ExtractionException.class)
                .hasMessageContaining("suspected zip bomb")
                .hasMessageContaining("maxNestingDepth=1")
                .hasMessageContaining("2 levels of package entry nesting");
        assertThat(SampleFiles.wordsOf(extract(shallow, SampleFiles.DOCS.resolve("harbor-festival-thread.eml")).text()))
                .contains("the harbor lamp schedule");
    }

    @Test
    void textBeyondMaxCharsIsCutAndFlaggedWhileHashCoversTheWholeFile() throws Exception {
        Path guide = SampleFiles.DOCS.resolve("moss-field-guide.pdf");
        TikaTextExtractor small = new TikaTextExtractor(ExtractionLimits.defaults().withMaxChars(500));

        ExtractedDocument document = extract(small, guide);

        assertThat(document.truncated()).isTrue();
        assertThat(document.chars()).isBetween(400L, 500L);
        assertThat(document.text()).startsWith("A Field Guide to Common Mosses");
        assertThat(document.sizeBytes()).isEqualTo(Files.size(guide));
        assertThat(document.sha256()).isEqualTo(DocumentIds.sha256Hex(Files.readAllBytes(guide)));
    }

    @Test
    void aFileOverTheTimeLimitFails() {
        TikaTextExtractor hasty = new TikaTextExtractor(ExtractionLimits.defaults().withTimeout(Duration.ofMillis(1)));
        Path guide = SampleFiles.DOCS.resolve("moss-field-guide.pdf");

        ExtractionException failure = catchThrowableOfType(ExtractionException.class, () -> extract(hasty, guide));

        assertThat(failure.getMessage())
                .isEqualTo(SampleFiles.uriOf(guide) + ": extraction did not finish within the time limit of 1 ms");
        assertThat(failure.errorClass()).isEqualTo("java.util.concurrent.TimeoutException");
    }

    @Test
    void twoCopiesOfOneFileAreTwoDocumentsWithOneHash(@TempDir Path dir) throws Exception {
        Path original = SampleFiles.DOCS.resolve("kettle-faq.html");
        Path copy = Files.copy(original, dir.resolve("kettle-faq.html"));

        ExtractedDocument first = extract(DEFAULTS, original);
        ExtractedDocument second = extract(DEFAULTS, copy);

        assertThat(first.docId()).isNotEqualTo(second.docId());
        assertThat(first.sha256()).isEqualTo(second.sha256());
        assertThat(first.text()).isEqualTo(second.text());
    }

    @Test
    void documentIdIsTheStartOfTheUrisSha256() {
        assertThat(DocumentIds.forUri("/data/corpus/report.pdf")).isEqualTo("7434f3206b3950fe");
    }

    @Test
    void limitsRejectValuesThatCannotWork() {
        ExtractionLimits defaults = ExtractionLimits.defaults();
        assertThat(defaults).isEqualTo(new ExtractionLimits(2_000_000, 10, 100, Duration.ofSeconds(60)));
        assertThatThrownBy(() -> defaults.withMaxChars(0)).hasMessage("maxChars must be at least 1, got 0");
        assertThatThrownBy(() -> defaults.withMaxNestingDepth(0)).hasMessage("maxNestingDepth must be at least 1, got 0");
        assertThatThrownBy(() -> defaults.withMaxCompressionRatio(0))
                .hasMessage("maxCompressionRatio must be at least 1, got 0");
        assertThatThrownBy(() -> defaults.withTimeout(Duration.ZERO)).hasMessage("timeout must be positive, got PT0S");
        assertThat(defaults.withMaxChars(5_000).zipBombThreshold()).isEqualTo(5_000);
        assertThat(defaults.zipBombThreshold()).isEqualTo(1_000_000);
    }

    private static ExtractedDocument extract(TikaTextExtractor extractor, Path file)
            throws IOException, ExtractionException {
        try (InputStream in = Files.newInputStream(file)) {
            return extractor.extract(SampleFiles.uriOf(file), in);
        }
    }
}
