package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NiahCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void reportsEachCaseAndTheTotalsOfBothQuestionKinds() {
        int status = run("niah", "--model=../sample-data/models/demo-target.gguf",
                "--drafter=../sample-data/models/demo-drafter.gguf", "--context=4096", "--cases=1", "--dense=false",
                "--answer-tokens=2", "--threads=2", "--seed=5");

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(text).contains("random weights", "keep ratio 0.050, alpha 0.85, lexical anchors on");
        List<String> rows = text.lines().filter(l -> l.matches("\\s+\\d+\\s+1\\s+(standard|variant) .*")).toList();
        assertThat(rows).hasSize(2);
        // The standard question quotes the key: its lexical anchors find the needle.
        assertThat(rows.get(0)).contains("standard").containsPattern("0\\.\\d{3}  yes ");
        assertThat(text).containsPattern("4096  standard  needle kept 1/1  value retrieved dense - pflash [01]/1")
                .contains("  4096  variant   needle kept");
    }

    @Test
    void badLengthsAreUsageErrors() {
        assertThat(run("niah", "--context=8k")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--context=8k: give token counts of at least 64");
    }
}
