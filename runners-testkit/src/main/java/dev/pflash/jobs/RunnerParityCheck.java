package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.generate.EngineHolder;
import dev.pflash.runtime.engine.EngineConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The check each runner module runs on its runner: the summarize job on the sample documents
 * (the 40-page field guide left out, to keep the check near a minute on two cores) and the bad
 * inputs, greedy decoding of 8 tokens, once on the runner under test and once on the Direct
 * runner. Every input ends as exactly one result or error row on both, the summaries and the
 * failures are the same, and the runner's run loaded the model at most once in this JVM.
 */
public final class RunnerParityCheck {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final String LEFT_OUT = "moss-field-guide.pdf";

    private RunnerParityCheck() {
    }

    /** The input files: every sample document but the field guide, and every bad input. */
    public static List<Path> inputs() {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("docs", "bad")) {
            try (Stream<Path> list = Files.list(SAMPLE.resolve(dir))) {
                list.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals(LEFT_OUT)).sorted()
                        .forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    /**
     * Runs the job with {@code runnerArgs} (such as {@code --runner=FlinkRunner}) into
     * {@code dir/runner}, then on the Direct runner into {@code dir/direct}, and compares the two.
     */
    public static void assertSameAsDirect(Path dir, String... runnerArgs) throws IOException {
        List<Path> inputs = inputs();
        SummarizeOptions onRunner = options(dir.resolve("runner"), "on-runner", inputs, runnerArgs);
        EngineConfig engine = EngineConfigs.from(onRunner);
        boolean loadedBefore = EngineHolder.isOpen(engine);
        int opensBefore = EngineHolder.timesOpened(engine);

        RunSummary runner = SummarizeJob.run(onRunner);

        assertThat(EngineHolder.timesOpened(engine) - opensBefore)
                .as("models loaded in this JVM by the run on " + String.join(" ", runnerArgs))
                .isEqualTo(loadedBefore ? 0 : 1);
        RunSummary direct = SummarizeJob.run(options(dir.resolve("direct"), "on-direct", inputs, "--runner=DirectRunner"));

        ResultTables runnerTables = new ResultTables(dir.resolve("runner"));
        ResultTables directTables = new ResultTables(dir.resolve("direct"));
        Map<String, String> summaries = runnerTables.byUri("results", "summary");
        Map<String, String> failures = runnerTables.byUri("errors", "stage");
        Set<String> rowFiles = new HashSet<>();
        Stream.concat(summaries.keySet().stream(), failures.keySet().stream())
                .forEach(uri -> rowFiles.add(Path.of(uri.replaceFirst("^file:(//)?", "")).getFileName().toString()));

        assertThat(runner.filesMatched()).isEqualTo(inputs.size());
        assertThat(summaries.size() + failures.size()).as("rows across results and errors").isEqualTo(inputs.size());
        assertThat(rowFiles).isEqualTo(inputs.stream().map(f -> f.getFileName().toString()).collect(Collectors.toSet()));
        assertThat(summaries).as("summaries; the errors were %s", runnerTables.byUri("errors", "message"))
                .isNotEmpty().doesNotContainValue("");
        assertThat(summaries).isEqualTo(directTables.byUri("results", "summary"));
        assertThat(failures).isEqualTo(directTables.byUri("errors", "stage"));
        assertThat(runnerTables.byUri("results", "generated_tokens"))
                .isEqualTo(directTables.byUri("results", "generated_tokens"));
        assertThat(runner.totals().documentsOk()).isEqualTo(summaries.size()).isEqualTo(direct.totals().documentsOk());
        assertThat(runner.totals().documentsFailed()).isEqualTo(failures.size())
                .isEqualTo(direct.totals().documentsFailed());
        assertThat(runner.totals().generatedTokens()).isEqualTo(direct.totals().generatedTokens());
        assertThat(dir.resolve("runner/manifest.json")).exists();
    }

    private static SummarizeOptions options(Path output, String runId, List<Path> inputs, String... runnerArgs) {
        List<String> args = new ArrayList<>(List.of(
                "--input=" + inputs.stream().map(Path::toString).collect(Collectors.joining(",")),
                "--output=" + output,
                "--model=" + SAMPLE.resolve("models/demo-target.gguf"),
                "--drafter=" + SAMPLE.resolve("models/demo-drafter.gguf"),
                "--backend=cpu",
                "--max-new-tokens=8",
                "--temperature=0",
                "--prefix-cache-bytes=0",
                "--run-id=" + runId,
                "--progress-seconds=2"));
        args.addAll(List.of(runnerArgs));
        return SummarizeJob.parse(args.toArray(String[]::new));
    }
}
