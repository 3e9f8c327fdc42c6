package dev.pflash.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pflash.jobs.report.BenchmarkReport;
import dev.pflash.jobs.report.ReportedRun;
import dev.pflash.jobs.report.RunDirectory;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code benchmark}: runs the summarize pipeline over the same documents once per engine
 * configuration (presets such as dense, pflash and pflash+cache, configurations of one's own, and
 * sweeps of a setting), each into its own folder of the usual tables under {@code --output}, then
 * writes the report over all of them there ({@link BenchmarkReport}) and {@value #PLAN}, the list
 * of configurations that {@code report} reads back.
 */
final class BenchmarkCommand {
    static final String PLAN = "benchmark.json";
    static final String DEFAULT_CONFIGS = "dense,pflash,pflash+cache";
    private static final Logger LOG = LoggerFactory.getLogger(BenchmarkCommand.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String USAGE = "Usage: benchmark --input=<glob> --output=<dir> [--configs=" + DEFAULT_CONFIGS
            + "] [--keep-ratio=0.03,0.05,0.1] [--batch-tokens=4096,16384] [any summarize option]";

    private BenchmarkCommand() {
    }

    static int execute(String[] args, PrintStream out, PrintStream err) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            help(out);
            return 0;
        }
        try {
            Path dir = run(args, out);
            out.println("Report: " + dir.resolve(BenchmarkReport.HTML) + " (and " + BenchmarkReport.MARKDOWN + ", "
                    + BenchmarkReport.TABLE + ")");
            return 0;
        } catch (UsageException e) {
            LOG.debug("Usage error", e);
            err.println("benchmark: " + e.getMessage());
            err.println("Run 'benchmark --help' for the options.");
            return 2;
        } catch (RuntimeException e) {
            LOG.error("The benchmark failed", e);
            err.println("benchmark failed: " + DocumentJobs.rootMessage(e));
            return 1;
        }
    }

    private static void help(PrintStream out) {
        out.println(USAGE);
        out.println();
        out.println("Runs summarize over the same documents once per configuration, each into <output>/<configuration>/,");
        out.println("then writes <output>/report.html, report.md and benchmark.parquet (one row per document and");
        out.println("configuration). Outputs are greedy (--temperature=0) unless --temperature is given, so that");
        out.println("configurations can be compared token by token.");
        out.println();
        out.println("  --configs=<list>  configurations, in report order (ratios are against the first); default "
                + DEFAULT_CONFIGS);
        BenchmarkPlan.PRESETS.forEach((name, options) -> out.println("      " + name + ": --" + String.join(" --",
                options)));
        out.println("      name:option=value;option=value  a configuration of your own");
        out.println("  Sweeps: " + String.join(", ", BenchmarkPlan.SWEEPS.stream().sorted().toList())
                + " take several values separated by commas: one run per value (and per configuration).");
        out.println();
        CommandOptions.printHelp(out, SummarizeOptions.class);
    }

    /** Runs every configuration and writes the report; returns the benchmark's directory. */
    static Path run(String[] args, PrintStream out) {
        List<String> configs = List.of(DEFAULT_CONFIGS.split(","));
        String output = null;
        Map<String, String> shared = new LinkedHashMap<>();
        shared.put("temperature", "0");
        Map<String, List<String>> sweeps = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--")) {
                throw new UsageException("'" + arg + "' is not an option (--name=value)", null);
            }
            int eq = arg.indexOf('=');
            String name = CommandOptions.kebab(eq < 0 ? arg.substring(2) : arg.substring(2, eq));
            String value = eq < 0 ? "true" : arg.substring(eq + 1);
            if (name.equals("configs")) {
                configs = List.of(value.split(","));
            } else if (name.equals("output")) {
                output = value;
            } else if (BenchmarkPlan.SWEEPS.contains(name) && value.contains(",")) {
                sweeps.put(name, List.of(value.split(",")));
            } else {
                shared.put(name, value);
            }
        }
        if (output == null || output.isBlank()) {
            throw new UsageException("--output=<dir> is required: each configuration's tables and the report go there",
                    null);
        }
        Path dir = Path.of(output);
        List<BenchmarkPlan.Config> plan;
        List<SummarizeOptions> options = new ArrayList<>();
        try {
            plan = BenchmarkPlan.of(configs, sweeps);
            for (BenchmarkPlan.Config config : plan) {
                Map<String, String> all = new LinkedHashMap<>(shared);
                all.putAll(config.options());
                all.put("output", dir.resolve(config.folder()).toString());
                List<String> words = all.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toList();
                options.add(DocumentJobs.parse(words.toArray(String[]::new), SummarizeOptions.class));
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        LOG.info("Benchmark of {} configurations into {}: {}", plan.size(), dir,
                String.join(", ", plan.stream().map(BenchmarkPlan.Config::name).toList()));
        BenchmarkProgress progress = new BenchmarkProgress(plan.size());
        List<ReportedRun> runs = new ArrayList<>();
        for (int i = 0; i < plan.size(); i++) {
            BenchmarkPlan.Config config = plan.get(i);
            LOG.info("Benchmark: configuration {} of {} ({}): {}", i + 1, plan.size(), config.name(),
                    String.join(" ", config.words()));
            RunSummary summary = SummarizeJob.run(options.get(i), progress.of(i, config.name()));
            progress.finished(summary.wallSeconds());
            out.println("[" + config.name() + "] " + summary.table().stripTrailing());
            runs.add(new ReportedRun(config.name(), i, String.join(" ", config.words()),
                    RunDirectory.load(dir.resolve(config.folder()))));
        }
        writePlan(dir, plan);
        new BenchmarkReport(runs).writeTo(dir);
        return dir;
    }

    /** {@value #PLAN}: the configurations in order, with their options and folders, for {@code report}. */
    private static void writePlan(Path dir, List<BenchmarkPlan.Config> plan) {
        List<Map<String, Object>> configs = new ArrayList<>();
        for (BenchmarkPlan.Config c : plan) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", c.name());
            entry.put("options", String.join(" ", c.words()));
            entry.put("folder", c.folder());
            configs.add(entry);
        }
        try {
            JSON.writeValue(dir.resolve(PLAN).toFile(), Map.of("configs", configs));
        } catch (IOException e) {
            throw new UncheckedIOException(dir.resolve(PLAN) + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The runs of a benchmark directory, in its order, from its {@value #PLAN}; empty when it has none. */
    static List<ReportedRun> runsOf(Path dir) {
        Path plan = dir.resolve(PLAN);
        if (!Files.isRegularFile(plan)) {
            return List.of();
        }
        List<ReportedRun> runs = new ArrayList<>();
        try {
            for (var entry : JSON.readTree(plan.toFile()).path("configs")) {
                runs.add(new ReportedRun(entry.path("name").asText(), runs.size(), entry.path("options").asText(),
                        RunDirectory.load(dir.resolve(entry.path("folder").asText()))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(plan + ": cannot read: " + e.getMessage(), e);
        }
        return runs;
    }
}
