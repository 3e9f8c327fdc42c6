package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void unknownCommandPrintsUsageAndExits2() {
        assertThat(run("summarise")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("pflash: unknown command 'summarise'")
                .contains("Usage: java -jar pflash.jar <command>", "summarize", "generate");
    }

    @Test
    void noCommandPrintsUsageAndExits2() {
        assertThat(run()).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Usage: java -jar pflash.jar <command>");
    }

    @Test
    void helpPrintsUsage() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Commands:");
    }

    @Test
    void summarizeHelpListsEveryOption() {
        assertThat(run("summarize", "--help")).isZero();
        String help = out.toString(StandardCharsets.UTF_8);
        List<String> options = Arrays.stream(SummarizeOptions.class.getMethods())
                .filter(m -> m.getDeclaringClass() == SummarizeOptions.class
                        || m.getDeclaringClass() == DocumentJobOptions.class
                        || m.getDeclaringClass() == SamplingOptions.class)
                .map(Method::getName)
                .filter(n -> n.startsWith("get"))
                .map(n -> "--" + CommandOptions.kebab(Character.toLowerCase(n.charAt(3)) + n.substring(4)) + "=")
                .toList();
        assertThat(options).hasSize(24);
        assertThat(help).contains(options);
    }

    @Test
    void summarizeWithoutInputIsAUsageError() {
        assertThat(run("summarize", "--output=/tmp/x")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("summarize: Missing required value for [--input")
                .contains("Run 'summarize --help' for the options.");
    }

    @Test
    void aMissingModelFileIsAUsageErrorThatSaysWhereTheDemoModelsAre() {
        assertThat(run("summarize", "--input=../sample-data/docs/**", "--model=/nowhere/model.gguf",
                "--output=" + System.getProperty("java.io.tmpdir") + "/pflash-main-test")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("summarize: --model=/nowhere/model.gguf: no such file. The demo models are in"
                        + " sample-data/models/");
    }

    @Test
    void anInputThatMatchesNothingIsAUsageError() {
        assertThat(run("summarize", "--input=../sample-data/docs/*.nothing")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("summarize: --input=../sample-data/docs/*.nothing matches no files");
    }
}
