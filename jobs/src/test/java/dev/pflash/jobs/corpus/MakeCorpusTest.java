package dev.pflash.jobs.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.extract.ExtractedDocument;
import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.extract.TikaTextExtractor;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MakeCorpusTest {
    @Test
    void theSameSeedWritesTheSameBytesInEveryFormatWithEveryKindOfBadFile(@TempDir Path dir) throws Exception {
        MakeCorpus corpus = new MakeCorpus(30, 10.0 / 30, 0, 9);
        List<Path> first = corpus.writeTo(dir.resolve("a"));
        List<Path> second = corpus.writeTo(dir.resolve("b"));

        assertThat(first).hasSize(30);
        for (int i = 0; i < first.size(); i++) {
            assertThat(Files.readAllBytes(second.get(i))).isEqualTo(Files.readAllBytes(first.get(i)));
        }
        Set<String> extensions = first.subList(0, 20).stream().map(MakeCorpusTest::extension)
                .collect(Collectors.toSet());
        assertThat(extensions).containsExactlyInAnyOrderElementsOf(
                Arrays.stream(CorpusFormat.values()).map(CorpusFormat::extension).toList());
        Set<String> badNames = first.subList(20, 30).stream().map(p -> p.getFileName().toString())
                .map(name -> name.substring(0, name.lastIndexOf('-'))).collect(Collectors.toSet());
        assertThat(badNames).containsExactlyInAnyOrder("empty", "hangs-parser", "heap-bomb", "corrupt", "encrypted",
                "zip-bomb", "misnamed", "random", "whitespace-only");
        assertThat(first.stream().map(MakeCorpusTest::sha256).distinct()).hasSize(30);
    }

    @Test
    void everyGoodDocumentIsReadableAndNearDuplicatesShareTheirStart(@TempDir Path dir) throws Exception {
        List<Path> files = new MakeCorpus(10, 0, 0, 4).writeTo(dir);
        TikaTextExtractor tika = new TikaTextExtractor(ExtractionLimits.defaults());
        String[] texts = new String[files.size()];
        for (int i = 0; i < files.size(); i++) {
            try (InputStream in = Files.newInputStream(files.get(i))) {
                ExtractedDocument doc = tika.extract(files.get(i).toString(), in);
                assertThat(doc.text()).as(files.get(i).toString()).contains(" was ", " team on day ");
                texts[i] = doc.text();
            }
        }
        // doc 4 (ODT) repeats doc 3 (PPTX) but for its ending: its text starts with doc 3's first sentence.
        String firstSentence = texts[3].lines().filter(l -> l.startsWith("The ")).findFirst().orElseThrow();
        assertThat(texts[4]).contains(firstSentence.substring(0, firstSentence.indexOf('.') + 1));
    }

    private static String extension(Path file) {
        String name = file.getFileName().toString();
        return name.substring(name.lastIndexOf('.') + 1);
    }

    private static String sha256(Path file) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(file)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
