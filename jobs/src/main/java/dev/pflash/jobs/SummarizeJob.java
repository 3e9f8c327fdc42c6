package dev.pflash.jobs;

import dev.pflash.jobs.DocumentJobs.RunInput;
import dev.pflash.pipeline.SummarizeConfig;
import dev.pflash.pipeline.SummarizePipeline;
import dev.pflash.pipeline.generate.DecodeSettings;
import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineInfo;
import dev.pflash.schemas.SummaryResult;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.apache.beam.sdk.metrics.MetricResults;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code summarize}: every file matched by {@code --input} becomes a summary row (or an error row)
 * in Parquet tables under {@code --output}, written by {@link SummarizePipeline}; the job logs
 * progress while it runs, then writes the run manifest and prints a short table.
 */
public final class SummarizeJob {
    private static final Logger LOG = LoggerFactory.getLogger(SummarizeJob.class);

    private SummarizeJob() {
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status: 0 done, 1 the run failed, 2 a usage error. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return DocumentJobs.execute("summarize",
                "Usage: summarize --input=<glob> [--output=<dir>] [--option=value ...]", SummarizeOptions.class, args,
                out, err, SummarizeJob::run);
    }

    static SummarizeOptions parse(String[] args) {
        return DocumentJobs.parse(args, SummarizeOptions.class);
    }

    /** Runs the job with these options, progress in the log; what tests call. */
    public static RunSummary run(SummarizeOptions options) {
        return run(options, DocumentJobs.LOG_PROGRESS);
    }

    /** Runs the job with these options, reporting progress to {@code progress} (the benchmark's lines). */
    static RunSummary run(SummarizeOptions options, DocumentJobs.Progress progress) {
        Instant started = Instant.now();
        RunInput input;
        EngineConfig engine;
        EngineOpener opener;
        PromptTemplate template;
        DecodeSettings decode;
        ExtractionLimits limits;
        try {
            input = DocumentJobs.input(options, "summarize");
            limits = DocumentJobs.limits(options);
            template = template(options);
            engine = EngineConfigs.from(options);
            opener = EngineConfigs.opener(options);
            decode = new DecodeSettings(options.getMaxNewTokens(), options.getTemperature(), options.getTopK(),
                    options.getTopP(), options.getSeed());
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new UsageException(e.getMessage(), e);
        }
        EngineInfo info = DocumentJobs.describeEngine(engine, opener);
        input = DocumentJobs.settle(options, input, "summarize", ModelIdentity.of(info), Map.of(
                "template", template, "systemPrompt", String.valueOf(engine.systemPrompt()),
                "compression", engine.compression(), "decode", decode, "contextTokens", options.getContextTokens(),
                "maxChars", limits.maxChars()));
        SummarizeConfig config = new SummarizeConfig(options.getRunId(), input.patterns(), limits, template, engine,
                opener, decode, options.getBatchTokens(), options.getContextTokens(), input.layout(), input.done());
        LOG.info("Run {}: summarizing {} files matched by {} into {}", config.runId(), input.files(),
                input.describe(), input.layout().directory());
        DocumentJobs.started("summarize", options, SummarizeOptions.class, input, info, started);
        MetricResults metrics = DocumentJobs.runPipeline(options, "Summarize", new SummarizePipeline(config),
                input.files(), started, progress);
        return DocumentJobs.finish("summarize", options, SummarizeOptions.class, input,
                SummaryResult.getClassSchema(), info, metrics, started);
    }

    private static PromptTemplate template(SummarizeOptions options) {
        String file = options.getTemplate().strip();
        return file.isEmpty() ? PromptTemplate.defaultSummary() : PromptTemplate.load(Path.of(file));
    }
}
