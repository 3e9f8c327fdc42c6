package dev.pflash.jobs;

import dev.pflash.jobs.DocumentJobs.RunInput;
import dev.pflash.pipeline.ClassifyConfig;
import dev.pflash.pipeline.ClassifyPipeline;
import dev.pflash.pipeline.classify.ClassifyTemplate;
import dev.pflash.pipeline.classify.LabelSet;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.EngineInfo;
import dev.pflash.schemas.ClassifyResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.apache.beam.sdk.metrics.MetricResults;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code classify}: every file matched by {@code --input} is scored against the labels of
 * {@code --labels} and becomes a result row (top label, its probability, every label's score) or
 * an error row in Parquet tables under {@code --output}, written by {@link ClassifyPipeline}. The
 * instructions that list the labels are the prompts' shared prefix, and each prompt is prefilled
 * once for all labels.
 */
public final class ClassifyJob {
    private static final Logger LOG = LoggerFactory.getLogger(ClassifyJob.class);

    private ClassifyJob() {
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status: 0 done, 1 the run failed, 2 a usage error. */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return DocumentJobs.execute("classify",
                "Usage: classify --input=<glob> --labels=<file> [--output=<dir>] [--option=value ...]",
                ClassifyOptions.class, args, out, err, ClassifyJob::run);
    }

    static ClassifyOptions parse(String[] args) {
        return DocumentJobs.parse(args, ClassifyOptions.class);
    }

    /** Runs the job with these options; what tests call. */
    public static RunSummary run(ClassifyOptions options) {
        Instant started = Instant.now();
        RunInput input;
        ClassifyConfig config;
        try {
            input = DocumentJobs.input(options, "classify");
            LabelSet labels = LabelSet.load(Path.of(options.getLabels()));
            config = new ClassifyConfig(options.getRunId(), input.patterns(), DocumentJobs.limits(options), labels,
                    template(options, labels), EngineConfigs.from(options), EngineConfigs.opener(options),
                    options.getBatchTokens(), input.layout());
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new UsageException(e.getMessage(), e);
        }
        LOG.info("Run {}: classifying {} files matched by {} into {} against {} labels", config.runId(),
                input.files(), input.describe(), input.layout().directory(), config.labels().names().size());
        EngineInfo info = DocumentJobs.describeEngine(config.engine(), config.opener());
        input = DocumentJobs.settle(options, input, "classify", ModelIdentity.of(info), Map.of(
                "template", config.template(), "labels", config.labels().names(),
                "systemPrompt", String.valueOf(config.engine().systemPrompt()),
                "compression", config.engine().compression(), "maxChars", config.limits().maxChars()));
        config = new ClassifyConfig(config.runId(), config.input(), config.limits(), config.labels(), config.template(),
                config.engine(), config.opener(), config.batchTokens(), input.layout(), input.done());
        DocumentJobs.started("classify", options, ClassifyOptions.class, input, info, started);
        MetricResults metrics = DocumentJobs.runPipeline(options, "Classify", new ClassifyPipeline(config),
                input.files(), started, DocumentJobs.LOG_PROGRESS);
        return DocumentJobs.finish("classify", options, ClassifyOptions.class, input, ClassifyResult.getClassSchema(),
                info, metrics, started);
    }

    private static PromptTemplate template(ClassifyOptions options, LabelSet labels) {
        String file = options.getTemplate().strip();
        if (file.isEmpty()) {
            return ClassifyTemplate.of(labels);
        }
        try {
            return ClassifyTemplate.fromText(file, Files.readString(Path.of(file), StandardCharsets.UTF_8), labels);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the prompt template: " + e.getMessage(), e);
        }
    }
}
