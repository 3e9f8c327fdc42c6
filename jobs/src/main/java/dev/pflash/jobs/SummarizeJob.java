package dev.pflash.jobs;

import dev.pflash.pipeline.SummarizeConfig;
import dev.pflash.pipeline.SummarizePipeline;
import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.DecodeSettings;
import dev.pflash.pipeline.generate.EngineHolder;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.output.EmptyTables;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.output.RunManifest;
import dev.pflash.pipeline.output.RunMetrics;
import dev.pflash.pipeline.output.RunTotals;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineInfo;
import dev.pflash.runtime.engine.Engines;
import dev.pflash.runtime.gguf.GgufException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code summarize}: every file matched by {@code --input} becomes a summary row (or an error row)
 * in Parquet tables under {@code --output}, written by {@link SummarizePipeline}; the job logs
 * progress while it runs, then writes the run manifest and prints a short table.
 */
public final class SummarizeJob {
    private static final Logger LOG = LoggerFactory.getLogger(SummarizeJob.class);
    private static final EngineOpener OPENER = Engines::open;

    private SummarizeJob() {
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status: 0 done, 1 the run failed, 2 a usage error. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.println("Usage: summarize --input=<glob> [--output=<dir>] [--option=value ...]");
            out.println();
            CommandOptions.printHelp(out, SummarizeOptions.class);
            return 0;
        }
        try {
            RunSummary summary = run(parse(args));
            out.print(summary.table());
            return 0;
        } catch (UsageException e) {
            LOG.debug("Usage error", e);
            err.println("summarize: " + e.getMessage());
            err.println("Run 'summarize --help' for the options.");
            return 2;
        } catch (RuntimeException e) {
            LOG.error("The run failed", e);
            err.println("summarize failed: " + rootMessage(e));
            return 1;
        }
    }

    static SummarizeOptions parse(String[] args) {
        try {
            return CommandOptions.parse(args, SummarizeOptions.class);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /** Runs the job with these options; what tests call. */
    public static RunSummary run(SummarizeOptions options) {
        Instant started = Instant.now();
        FileSystems.setDefaultPipelineOptions(options);
        List<String> patterns;
        long files;
        SummarizeConfig config;
        try {
            patterns = InputFiles.patterns(options.getInput());
            files = InputFiles.count(patterns);
            if (files == 0) {
                throw new IllegalArgumentException("--input=" + String.join(",", patterns) + " matches no files");
            }
            OutputLayout layout = new OutputLayout(options.getOutput(), options.getShards(), options.getCompression());
            OutputDirectory.prepare(layout, options.getOverwrite());
            config = new SummarizeConfig(options.getRunId(), patterns, limits(options), template(options),
                    EngineConfigs.from(options), OPENER, new DecodeSettings(options.getMaxNewTokens(),
                            options.getTemperature(), options.getTopK(), options.getTopP(), options.getSeed()),
                    options.getBatchTokens(), options.getContextTokens(), layout);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new UsageException(e.getMessage(), e);
        }
        // The job holds the engine for the whole run, so that the model loads once even when the
        // runner tears down and sets up its DoFn instances between stages.
        try (EngineHolder.Lease lease = openEngine(config.engine())) {
            EngineInfo info = lease.engine().info();
            LOG.info("Run {}: summarizing {} files matched by {} into {}", config.runId(), files, patterns,
                    config.output().directory());
            LOG.info("Target {} (drafter {}) on {}, context {} tokens", info.targetModel(), info.drafterModel(),
                    info.backend(), info.contextLength());
            if (info.demoModels()) {
                LOG.warn("Demo models in use: their weights are random, so the summaries are noise; pass"
                        + " --model=<a Qwen3 GGUF file> for real summaries");
            }
            RunTotals totals = runPipeline(options, config, files, started);
            OutputDirectory.removeEmptyTempFolders(config.output());
            EmptyTables.fill(config.output());
            Instant finished = Instant.now();
            new RunManifest(config.runId(), "summarize", started, finished, "DONE", String.join(",", patterns),
                    config.output().directory(), files, optionValues(options), ModelIdentity.of(info),
                    info.contextLength(), totals).writeTo(config.output().manifestPath());
            return new RunSummary(config.runId(), config.output().directory(), files, totals,
                    Duration.between(started, finished).toMillis() / 1000.0);
        }
    }

    private static RunTotals runPipeline(SummarizeOptions options, SummarizeConfig config, long files,
            Instant started) {
        if (options.getRunner() == DirectRunner.class) {
            options.as(DirectOptions.class).setBlockOnRun(false);
        }
        Pipeline pipeline = Pipeline.create(options);
        pipeline.apply("Summarize", new SummarizePipeline(config));
        PipelineResult result = pipeline.run();
        org.joda.time.Duration interval =
                org.joda.time.Duration.standardSeconds(Math.max(1, options.getProgressSeconds()));
        PipelineResult.State state = result.waitUntilFinish(interval);
        while (state == null || !state.isTerminal()) {
            double elapsed = Duration.between(started, Instant.now()).toMillis() / 1000.0;
            LOG.info("Progress: {}", ProgressLine.of(RunMetrics.totals(result.metrics()), files, elapsed));
            state = result.waitUntilFinish(interval);
        }
        if (state != PipelineResult.State.DONE) {
            throw new IllegalStateException("the pipeline ended in state " + state);
        }
        return RunMetrics.totals(result.metrics());
    }

    private static EngineHolder.Lease openEngine(EngineConfig config) {
        try {
            return EngineHolder.acquire(config, OPENER);
        } catch (IllegalArgumentException | UncheckedIOException | GgufException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }


    private static ExtractionLimits limits(SummarizeOptions options) {
        if (options.getExtractTimeoutSeconds() < 1) {
            throw new IllegalArgumentException("--extract-timeout-seconds must be at least 1, got "
                    + options.getExtractTimeoutSeconds());
        }
        return new ExtractionLimits(options.getMaxChars(), options.getMaxNestingDepth(),
                options.getMaxCompressionRatio(), Duration.ofSeconds(options.getExtractTimeoutSeconds()));
    }

    private static PromptTemplate template(SummarizeOptions options) {
        String file = options.getTemplate().strip();
        return file.isEmpty() ? PromptTemplate.defaultSummary() : PromptTemplate.load(Path.of(file));
    }

    /** The values of every summarize option, by option name, for the manifest. */
    static Map<String, Object> optionValues(SummarizeOptions options) {
        Map<String, Object> values = new TreeMap<>();
        for (Method getter : SummarizeOptions.class.getDeclaredMethods()) {
            String name = getter.getName();
            if (getter.getParameterCount() == 0 && name.startsWith("get") && name.length() > 3) {
                try {
                    values.put(Character.toLowerCase(name.charAt(3)) + name.substring(4), getter.invoke(options));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException("cannot read option " + name + ": " + e.getMessage(), e);
                }
            }
        }
        return values;
    }

    private static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getName() : message;
    }
}
