package dev.pflash.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.options.PipelineOptions;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the jobs need to know about the runner that runs them, in one place, so that every job
 * runs unchanged on the Direct runner of {@code pflash.jar}, the Flink runner of
 * {@code pflash-flink.jar} and the Spark runner of {@code pflash-spark.jar}:
 * <ul>
 *   <li>how to start a run so that the job can watch it (the Direct runner would block);</li>
 *   <li>how to watch it: metrics polled from the result, which every runner reports as
 *       attempted values (Flink returns only when the job has ended);</li>
 *   <li>which Java 17 flags the runner needs: each runner jar lists them in
 *       {@value #JVM_FLAGS_RESOURCE}, its manifest applies them under {@code java -jar}, and a
 *       JVM started otherwise without them gets a warning and, if the run fails, a message that
 *       names them;</li>
 *   <li>what to say when a runner is not in the jar at hand.</li>
 * </ul>
 */
final class RunnerSupport {
    /** The JVM flags of the runner jar on the class path, one per line ({@code java @file} syntax). */
    static final String JVM_FLAGS_RESOURCE = "META-INF/pflash/java17-jvm-flags";
    private static final String ADD_MODULES = "--add-modules=";

    private static final Logger LOG = LoggerFactory.getLogger(RunnerSupport.class);
    private static final String UNKNOWN_RUNNER = "Unknown 'runner' specified";
    private static final String FLINK = "FlinkRunner";

    private RunnerSupport() {
    }

    /** The runner's short name, such as {@code FlinkRunner}. */
    static String runnerName(PipelineOptions options) {
        return options.getRunner().getSimpleName();
    }

    /**
     * Runs {@code pipeline} and reports its metrics to {@code progress} every {@code interval}
     * while it runs; returns the final metrics once it is done.
     *
     * @throws IllegalStateException when the pipeline fails or ends in another state than DONE;
     *                               the message names missing JVM flags when there are any
     */
    static MetricResults runAndWatch(Pipeline pipeline, Duration interval, Consumer<MetricResults> progress) {
        PipelineOptions options = pipeline.getOptions();
        String runner = runnerName(options);
        List<String> missing = missingJvmFlags();
        if (!missing.isEmpty()) {
            LOG.warn("This JVM lacks flags that {} needs on Java 17: {}. 'java -jar' on the runner's jar sets them;"
                    + " otherwise add them to the JVM's command line", runner, String.join(" ", missing));
        }
        if (options.getRunner() == DirectRunner.class) {
            options.as(DirectOptions.class).setBlockOnRun(false);
        } else if (runner.equals(FLINK)) {
            LOG.info("Running on {}: it returns when the job has ended, so no progress lines until then (Flink's web"
                    + " UI shows the job's progress)", runner);
        } else {
            LOG.info("Running on {}", runner);
        }
        try {
            PipelineResult result = pipeline.run();
            PipelineResult.State state = result.waitUntilFinish(interval);
            while (state == null || !state.isTerminal()) {
                progress.accept(result.metrics());
                state = result.waitUntilFinish(interval);
            }
            if (state != PipelineResult.State.DONE) {
                throw new IllegalStateException("the pipeline ended in state " + state + " on " + runner);
            }
            return result.metrics();
        } catch (RuntimeException e) {
            if (missing.isEmpty()) {
                throw e;
            }
            throw new IllegalStateException("the pipeline failed on " + runner + " in a JVM without the flags it needs"
                    + " on Java 17 (" + String.join(" ", missing) + "): run 'java -jar' on the runner's jar, or add"
                    + " them to the JVM's command line. The failure: " + e.getMessage(), e);
        }
    }

    /**
     * The flags listed by the runner jars on the class path that this JVM was not started with,
     * except {@code --add-modules}: the Vector API module only speeds up the CPU kernels, and the
     * CPU backend logs when it runs without it.
     */
    static List<String> missingJvmFlags() {
        List<String> missing = new ArrayList<>();
        for (String flag : listedJvmFlags()) {
            if (!flag.startsWith(ADD_MODULES) && !isInEffect(flag)) {
                missing.add(flag);
            }
        }
        return missing;
    }

    /** Every flag in the {@value #JVM_FLAGS_RESOURCE} files on the class path, in order, once each. */
    static Set<String> listedJvmFlags() {
        Set<String> flags = new LinkedHashSet<>();
        try {
            Enumeration<URL> lists = RunnerSupport.class.getClassLoader().getResources(JVM_FLAGS_RESOURCE);
            while (lists.hasMoreElements()) {
                try (InputStream in = lists.nextElement().openStream()) {
                    new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                            .filter(line -> !line.isEmpty()).forEach(flags::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + JVM_FLAGS_RESOURCE + ": " + e.getMessage(), e);
        }
        return flags;
    }

    /**
     * Whether {@code flag} ({@code --add-opens=module/package=ALL-UNNAMED},
     * {@code --add-exports=...} or {@code --add-modules=module}) holds in this JVM. A module this JVM does not have needs no flag.
     */
    static boolean isInEffect(String flag) {
        if (flag.startsWith(ADD_MODULES)) {
            return ModuleLayer.boot().findModule(flag.substring(ADD_MODULES.length())).isPresent();
        }
        boolean opens = flag.startsWith("--add-opens=");
        if (!opens && !flag.startsWith("--add-exports=")) {
            throw new IllegalArgumentException(JVM_FLAGS_RESOURCE + ": '" + flag + "' is not an --add-opens,"
                    + " --add-exports or --add-modules flag");
        }
        String[] target = flag.substring(flag.indexOf('=') + 1).split("[/=]");
        if (target.length != 3 || !target[2].equals("ALL-UNNAMED")) {
            throw new IllegalArgumentException(JVM_FLAGS_RESOURCE + ": '" + flag + "' is not of the form"
                    + " --add-opens=module/package=ALL-UNNAMED");
        }
        Optional<Module> module = ModuleLayer.boot().findModule(target[0]);
        if (module.isEmpty()) {
            return true;
        }
        Module unnamed = RunnerSupport.class.getClassLoader().getUnnamedModule();
        return opens ? module.get().isOpen(target[1], unnamed) : module.get().isExported(target[1], unnamed);
    }

    /**
     * Beam's error for a runner that is not on the class path, with where to find it; other
     * errors unchanged.
     */
    static IllegalArgumentException explainUnknownRunner(IllegalArgumentException error) {
        String message = error.getMessage();
        if (message == null || !message.startsWith(UNKNOWN_RUNNER)) {
            return error;
        }
        return new IllegalArgumentException(message + ". FlinkRunner is in pflash-flink.jar and SparkRunner in"
                + " pflash-spark.jar (runners-flink/target and runners-spark/target after 'mvn package');"
                + " pflash.jar has the DirectRunner only", error);
    }
}
