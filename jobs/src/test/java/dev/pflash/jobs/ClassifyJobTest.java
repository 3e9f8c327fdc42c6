package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classify command end to end on the HTML and Markdown documents of sample-data, with the demo target. */
class ClassifyJobTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final Path DOCS = SAMPLE.resolve("docs");
    private static final String INPUT = DOCS + "/*.html," + DOCS + "/*.md";

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void classifiesEachDocumentAndRecordsTheRun(@TempDir Path dir) throws IOException {
        int status = run("classify", "--input=" + INPUT, "--labels=" + SAMPLE.resolve("labels.txt"),
                "--output=" + dir, "--model=" + SAMPLE.resolve("models/demo-target.gguf"), "--drafter=none",
                "--backend=cpu", "--max-chars=1500", "--run-id=classify-1", "--progress-seconds=1");

        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
        String table = out.toString(StandardCharsets.UTF_8);
        assertThat(table).contains("documents ok      2", "documents failed  0", "prefix hit rate");
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        assertThat(manifest.get("job").asText()).isEqualTo("classify");
        assertThat(manifest.get("options").get("labels").asText()).endsWith("labels.txt");
        assertThat(manifest.get("options").get("maxChars").asInt()).isEqualTo(1500);
        assertThat(manifest.get("counts").get("documents_ok").asLong()).isEqualTo(2);
        assertThat(manifest.get("counts").get("prefix_tokens_reused").asLong()).isPositive();
        assertThat(OutputRows.rows(dir.resolve("results"))).hasSize(2);
        // no errors: the table still has a file, with its columns and no rows
        assertThat(dir.resolve("errors/errors-00000-of-00001.parquet")).exists();
    }

    @Test
    void aMissingOrBadLabelsFileIsAUsageError(@TempDir Path dir) throws IOException {
        assertThat(run("classify", "--input=" + INPUT, "--output=" + dir.resolve("a"))).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("classify: Missing required value for [--labels");

        Path one = Files.writeString(dir.resolve("one.txt"), "finance\n");
        err.reset();
        assertThat(run("classify", "--input=" + INPUT, "--labels=" + one, "--output=" + dir.resolve("b"),
                "--drafter=none", "--model=" + SAMPLE.resolve("models/demo-target.gguf"))).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("classify: " + one + ": 1 label; a classification needs at least two")
                .contains("Run 'classify --help' for the options.");
    }
}
