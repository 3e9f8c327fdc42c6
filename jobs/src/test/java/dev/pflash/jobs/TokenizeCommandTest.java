package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tokenize}: ids and pieces of the demo model's tokenizer, as llama-tokenize prints them. */
class TokenizeCommandTest {
    private static final String MODEL = "../sample-data/models/demo-target.gguf";
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private static int[] expectedIds(String text) {
        try (ModelFile m = ModelSources.open(MODEL)) {
            return Tokenizer.fromMetadata(m.metadata()).encodeWithBos(text);
        }
    }

    @Test
    void printsOneIdAndPiecePerTokenThatJoinToTheText() {
        String text = "The harbor committee counted 12 herons.<|im_end|>";
        assertThat(run("tokenize", "--model=" + MODEL, "--text=" + text)).isZero();
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        int[] ids = expectedIds(text);
        assertThat(lines).hasSize(ids.length);
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            assertThat(lines[i]).matches(" *" + ids[i] + " -> '.*'");
            joined.append(lines[i], lines[i].indexOf("'") + 1, lines[i].length() - 1);
        }
        assertThat(joined.toString()).isEqualTo(text);
    }

    @Test
    void idsOnlyFromAFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("t.txt"), "tide pools\nand moss", StandardCharsets.UTF_8);
        assertThat(run("tokenize", "--model=" + MODEL, "--file=" + file, "--ids")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo(Arrays.stream(expectedIds("tide pools\nand moss"))
                .mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]")));
    }

    @Test
    void textAndFileTogetherAreRefused() {
        assertThat(run("tokenize", "--model=" + MODEL, "--text=a", "--file=b")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("give exactly one of --text and --file");
    }
}
