package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BenchTtftCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void timesDenseAndPflashAndTheDrafterAttentionAtEachLength() {
        int status = run("bench-ttft", "--model=../sample-data/models/demo-target.gguf",
                "--drafter=../sample-data/models/demo-drafter.gguf", "--lengths=1500", "--warmup-tokens=0",
                "--threads=2");

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(text).contains("keep ratio 0.050, alpha 0.85, forced chunks 8 head + 24 tail");
        // One row per length: exact prompt tokens, then body and kept tokens.
        assertThat(text.lines().filter(l -> l.startsWith("   1500  ")).count()).isEqualTo(2);
        assertThat(text).contains("Drafter attention, block-sparse (alpha 0.85) against every block:");
    }

    @Test
    void aLengthTooShortForThePromptFrameFails() {
        // A byte-level vocabulary spends a token per byte on the instructions and the question.
        assertThat(run("bench-ttft", "--model=synthetic:cpu-drafter", "--drafter=synthetic:cpu-drafter",
                "--lengths=100", "--warmup-tokens=0", "--compare-attention=false")).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("a prompt of 100 tokens has no room for a document");
    }

    @Test
    void lengthsMustBeTokenCounts() {
        assertThat(run("bench-ttft", "--lengths=4096,32")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--lengths=4096,32: give token counts of at least 64");
    }
}
