package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A small bench-prefix run: the prefilled token counts of each case follow exactly from the
 * workload (4 documents behind a 96-token prefix, 6 cache blocks of 16; timings are not asserted).
 */
class PrefixBenchCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void cacheAndBatchesSaveThePrefixAndLabelsShareOnePrefill() {
        int status = run("bench-prefix", "--model=synthetic:cpu-drafter?ctx=1024", "--backend=cpu", "--threads=2",
                "--docs=4", "--prefix-tokens=96", "--min-body-tokens=30", "--max-body-tokens=60", "--batch-size=2",
                "--label-count=3", "--classify-docs=2");

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isZero();
        // bodies 30, 40, 50, 60; the question suffix adds the same tokens to each prompt
        long in = promptTokens(text, "cache off, one prompt at a time");
        int suffix = (int) ((in - 4 * 96 - 180) / 4);
        assertThat(in).isEqualTo(4 * 96 + 180 + 4L * suffix);
        assertThat(prefilled(text, "cache off, one prompt at a time")).isEqualTo(in);
        assertThat(prefilled(text, "cache on, one prompt at a time")).as("the first prompt fills the cache")
                .isEqualTo(in - 3 * 96);
        assertThat(prefilled(text, "cache off, batches of 2")).as("each batch computes its prefix once")
                .isEqualTo(in - 2 * 96);
        assertThat(prefilled(text, "cache on, batches of 2")).as("the cache is warm").isEqualTo(in - 4 * 96);
        long classifyIn = promptTokens(text, "prompt prefilled once for all labels");
        assertThat(classifyIn).isEqualTo(2 * 96 + 30 + 40 + 2L * suffix);
        assertThat(prefilled(text, "prompt prefilled once per label")).isEqualTo(3 * classifyIn);
        assertThat(prefilled(text, "prompt prefilled once for all labels")).isEqualTo(classifyIn);
        assertThat(text).contains("4 documents of 30-60 body tokens behind a 96-token prefix");
    }

    @Test
    void theCacheMustBeOnToCompareWithIt() {
        assertThat(run("bench-prefix", "--prefix-cache-bytes=0")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("bench-prefix compares the prefix cache off with the cache on: --prefix-cache-bytes must be"
                        + " more than 0");
    }

    private static long promptTokens(String text, String caseName) {
        return column(text, caseName, 0);
    }

    private static long prefilled(String text, String caseName) {
        return column(text, caseName, 1);
    }

    private static long column(String text, String caseName, int index) {
        String line = text.lines().filter(l -> l.startsWith(" " + caseName + " ")).findFirst().orElseThrow();
        String[] numbers = line.substring(caseName.length() + 1).strip().split("\\s+");
        return Long.parseLong(numbers[index]);
    }
}
