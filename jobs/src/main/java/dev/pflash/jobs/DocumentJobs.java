package dev.pflash.jobs;

import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.EngineHolder;
import dev.pflash.pipeline.generate.EngineLoadException;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.output.EmptyTables;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.output.RunManifest;
import dev.pflash.pipeline.output.RunMetrics;
import dev.pflash.pipeline.output.RunTotals;
import dev.pflash.pipeline.resume.DoneDocuments;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineInfo;
import dev.pflash.runtime.gguf.GgufException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PDone;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the document jobs (summarize, classify) share around their pipelines: the command line's
 * exit statuses and messages, checking the input files and the output directory, Tika's limits,
 * opening the engine once for the log and the manifest, running and watching the pipeline, and
 * the manifest and end-of-run table of a finished run.
 */
final class DocumentJobs {
    private static final Logger LOG = LoggerFactory.getLogger(DocumentJobs.class);

    private DocumentJobs() {
    }

    /** What a job does with its progress while the pipeline runs: the totals so far, of how many files, after how long. */
    @FunctionalInterface
    interface Progress {
        void report(RunTotals soFar, long files, double elapsedSeconds);
    }

    /** Progress as a line in the log. */
    static final Progress LOG_PROGRESS = (soFar, files, elapsed) ->
            LOG.info("Progress: {}", ProgressLine.of(soFar, files, elapsed));

    /**
     * The files a run reads, how many there are, where its tables go (checked and prepared), and,
     * once the settings are known ({@link #settle}), the documents the output already holds for them.
     */
    record RunInput(List<String> patterns, long files, OutputLayout layout, DoneDocuments done) {
        String describe() {
            return String.join(",", patterns);
        }
    }

    /**
     * Stamps the layout with the SHA-256 of the settings that change the output ({@code job},
     * the models and their hashes, and {@code settings}: template, generation, PFlash, limits)
     * and, with {@code --resume}, loads what the output already holds for them.
     */
    static RunInput settle(DocumentJobOptions options, RunInput input, String job, ModelIdentity models,
            Map<String, Object> settings) {
        Map<String, Object> all = new TreeMap<>(settings);
        all.put("job", job);
        all.put("models", models.targetModel() + "@" + models.targetSha256() + " " + models.drafterModel() + "@"
                + models.drafterSha256());
        StringBuilder text = new StringBuilder();
        all.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
        String sha = HexFormat.of().formatHex(sha256(text.toString().getBytes(StandardCharsets.UTF_8)));
        OutputLayout before = input.layout();
        OutputLayout layout = new OutputLayout(before.directory(), before.shards(), before.compression(),
                before.commitEvery(), before.commitSeconds(), sha);
        DoneDocuments done = options.getResume() ? DoneDocuments.load(layout, sha) : DoneDocuments.none();
        if (options.getResume()) {
            LOG.info("Resuming into {}: {} contents already have a result and {} a final error for settings {}",
                    layout.directory(), done.withResult(), done.withError(), sha.substring(0, 12));
        }
        return new RunInput(input.patterns(), input.files(), layout, done);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /**
     * Runs a job's command line: {@code --help} prints {@code usage} and the options of
     * {@code type}; otherwise the options are parsed and {@code run} runs. Returns the exit
     * status: 0 done, 1 the run failed, 2 a usage error.
     */
    static <T extends PipelineOptions> int execute(String command, String usage, Class<T> type, String[] args,
            PrintStream out, PrintStream err, Function<T, RunSummary> run) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.println(usage);
            out.println();
            CommandOptions.printHelp(out, type);
            return 0;
        }
        try {
            RunSummary summary = run.apply(parse(args, type));
            out.print(summary.table());
            return 0;
        } catch (UsageException e) {
            LOG.debug("Usage error", e);
            err.println(command + ": " + e.getMessage());
            err.println("Run '" + command + " --help' for the options.");
            return 2;
        } catch (RuntimeException e) {
            LOG.error("The run failed", e);
            err.println(command + " failed: " + rootMessage(e));
            return 1;
        }
    }

    /** Parses a job's options; a bad option is a {@link UsageException}. */
    static <T extends PipelineOptions> T parse(String[] args, Class<T> type) {
        try {
            return CommandOptions.parse(args, type);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * Checks {@code --input} (it must match files) and {@code --output} (it must not hold an
     * earlier run, unless {@code --overwrite}; {@code out/<command>} when not given), with the
     * options as Beam's file systems' defaults.
     *
     * @throws IllegalArgumentException naming the option and the problem
     */
    static RunInput input(DocumentJobOptions options, String command) {
        FileSystems.setDefaultPipelineOptions(options);
        String output = options.getOutput() == null || options.getOutput().isBlank() ? "out/" + command
                : options.getOutput();
        List<String> patterns = InputFiles.patterns(options.getInput());
        long files = InputFiles.count(patterns);
        if (files == 0) {
            throw new IllegalArgumentException("--input=" + String.join(",", patterns) + " matches no files");
        }
        OutputLayout layout = new OutputLayout(output, options.getShards(), options.getCompression(),
                options.getCommitEvery(), options.getCommitSeconds(), null);
        OutputDirectory.prepare(layout, options.getOverwrite(), options.getResume());
        return new RunInput(patterns, files, layout, DoneDocuments.none());
    }

    static ExtractionLimits limits(DocumentJobOptions options) {
        if (options.getExtractTimeoutSeconds() < 1) {
            throw new IllegalArgumentException("--extract-timeout-seconds must be at least 1, got "
                    + options.getExtractTimeoutSeconds());
        }
        return new ExtractionLimits(options.getMaxChars(), options.getMaxNestingDepth(),
                options.getMaxCompressionRatio(), Duration.ofSeconds(options.getExtractTimeoutSeconds()),
                options.getParserProcesses(), options.getParserHeapMb());
    }

    /**
     * Opens the engine here once, for the log and the manifest, and lets it go: where the runner
     * runs in this JVM (Direct, embedded Flink, local Spark) the workers take the same engine
     * over within its keep-alive, so the model still loads once. Logs what runs where.
     */
    static EngineInfo describeEngine(EngineConfig config, EngineOpener opener) {
        EngineInfo info;
        try (EngineHolder.Lease lease = EngineHolder.acquire(config, opener)) {
            info = lease.engine().info();
        } catch (EngineLoadException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException
                    || cause instanceof GgufException) {
                throw new UsageException(cause.getMessage(), e);
            }
            throw e;
        }
        LOG.info("Target {} (drafter {}) on {}, context {} tokens", info.targetModel(), info.drafterModel(),
                info.backend(), info.contextLength());
        if (info.demoModels()) {
            LOG.warn("Demo models in use: their weights are random, so their output is noise; pass"
                    + " --model=<a Qwen3 GGUF file> for real results");
        }
        return info;
    }

    /**
     * Writes the manifest of a run that has started (state {@code RUNNING}), so that the list of
     * runs names it even if it is killed.
     */
    static <T extends DocumentJobOptions> void started(String job, T options, Class<? super T> type, RunInput input,
            EngineInfo info, Instant started) {
        new RunManifest(options.getRunId(), job, started, null, RunManifest.RUNNING, input.describe(),
                input.layout().directory(), input.files(), optionValues(options, type), ModelIdentity.of(info),
                info.contextLength(), info.compressionCrossover(), new RunTotals(0, 0, Map.of(), 0, 0, null, null, 0, 0, 0, 0, 0),
                input.layout().settingsSha256(), Map.of()).writeTo(input.layout().manifestPath());
    }

    /** Runs {@code job} on the options' runner, reporting progress, and returns the run's metrics. */
    static MetricResults runPipeline(DocumentJobOptions options, String name, PTransform<PBegin, PDone> job,
            long files, Instant started, Progress progress) {
        Pipeline pipeline = Pipeline.create(options);
        pipeline.apply(name, job);
        org.joda.time.Duration interval =
                org.joda.time.Duration.standardSeconds(Math.max(1, options.getProgressSeconds()));
        return RunnerSupport.runAndWatch(pipeline, interval, metrics -> {
            double elapsed = Duration.between(started, Instant.now()).toMillis() / 1000.0;
            progress.report(RunMetrics.totals(metrics), files, elapsed);
        });
    }

    /**
     * Tidies the output of a finished run (empty tables get a Parquet file with their schema;
     * {@code resultsSchema} for the results), writes its manifest and returns its end-of-run table.
     */
    static <T extends DocumentJobOptions> RunSummary finish(String job, T options, Class<? super T> type,
            RunInput input, Schema resultsSchema, EngineInfo info, MetricResults metrics, Instant started) {
        OutputLayout layout = input.layout();
        RunTotals totals = RunMetrics.totals(metrics);
        Map<String, Long> skipped = RunMetrics.skipped(metrics);
        OutputDirectory.removeEmptyTempFolders(layout);
        EmptyTables.fill(layout, resultsSchema);
        Instant finished = Instant.now();
        new RunManifest(options.getRunId(), job, started, finished, RunManifest.DONE, input.describe(), layout.directory(),
                input.files(), optionValues(options, type), ModelIdentity.of(info), info.contextLength(),
                info.compressionCrossover(), totals, layout.settingsSha256(), skipped).writeTo(layout.manifestPath());
        if (options.getResume()) {
            LOG.info("Skipped (already done for these settings): {}", skipped);
        }
        return new RunSummary(options.getRunId(), layout.directory(), input.files(), totals,
                Duration.between(started, finished).toMillis() / 1000.0);
    }

    /**
     * The value of every option that {@code type} and its project superinterfaces declare (not
     * Beam's own), by option name, for the manifest.
     */
    static <T extends PipelineOptions> Map<String, Object> optionValues(T options, Class<? super T> type) {
        Map<String, Object> values = new TreeMap<>();
        for (Method getter : type.getMethods()) {
            String name = getter.getName();
            if (getter.getDeclaringClass().getName().startsWith("dev.pflash.") && getter.getParameterCount() == 0
                    && name.startsWith("get") && name.length() > 3) {
                try {
                    values.put(Character.toLowerCase(name.charAt(3)) + name.substring(4), getter.invoke(options));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException("cannot read option " + name + ": " + e.getMessage(), e);
                }
            }
        }
        return values;
    }

    static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getName() : message;
    }
}
