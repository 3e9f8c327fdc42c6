package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MakeCorpusCommandTest {
    @Test
    void writesTheCorpusAndInsistsOnAnOutputFolder(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"make-corpus", "--docs=4", "--bad-fraction=0", "--output=" + dir},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

        assertThat(status).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("wrote 4 files (0 bad) under " + dir);
        try (Stream<Path> docs = Files.list(dir.resolve("docs"))) {
            assertThat(docs.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("doc-000000.pdf", "doc-000001.docx", "doc-000002.xlsx", "doc-000003.pptx");
        }

        int missing = Main.run(new String[] {"make-corpus", "--docs=4"}, new PrintStream(out, true,
                StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(missing).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("make-corpus: --output=<dir> is required");
    }
}
