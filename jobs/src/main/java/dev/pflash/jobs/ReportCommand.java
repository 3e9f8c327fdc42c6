package dev.pflash.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pflash.jobs.report.BenchmarkReport;
import dev.pflash.jobs.report.ReportedRun;
import dev.pflash.jobs.report.RunDirectory;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code report}: the benchmark report over runs that already exist: summarize or classify output
 * directories (a nightly run, or several nights side by side) and benchmark directories (each
 * stands for all its configurations). A run's configuration is named after its folder unless
 * {@code --names} says otherwise, and described by the options in which its manifest differs from
 * the first run's.
 */
final class ReportCommand {
    private static final Logger LOG = LoggerFactory.getLogger(ReportCommand.class);
    private static final String USAGE = "Usage: report --runs=<dir>,<dir>,... --output=<dir> [--names=<name>,<name>,...]";

    private ReportCommand() {
    }

    static int execute(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || List.of(args).contains("--help") || List.of(args).contains("-h")) {
            (args.length == 0 ? err : out).println(USAGE);
            (args.length == 0 ? err : out).println("  --runs    output directories of summarize, classify or benchmark"
                    + " runs, in report order (ratios are against the first)");
            (args.length == 0 ? err : out).println("  --output  where report.html, report.md, benchmark.parquet and"
                    + " plots/ go");
            (args.length == 0 ? err : out).println("  --names   names of the runs' configurations (default: each"
                    + " folder's name)");
            return args.length == 0 ? 2 : 0;
        }
        String runs = null;
        String output = null;
        String names = null;
        for (String arg : args) {
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            String value = eq < 0 ? "" : arg.substring(eq + 1);
            switch (name) {
                case "--runs" -> runs = value;
                case "--output" -> output = value;
                case "--names" -> names = value;
                default -> {
                    err.println("report: unknown option '" + arg + "'");
                    err.println(USAGE);
                    return 2;
                }
            }
        }
        if (runs == null || runs.isBlank() || output == null || output.isBlank()) {
            err.println("report: --runs and --output are required");
            err.println(USAGE);
            return 2;
        }
        try {
            List<ReportedRun> reported = load(List.of(runs.split(",")), names == null ? List.of()
                    : List.of(names.split(",")));
            Path dir = Path.of(output);
            new BenchmarkReport(reported).writeTo(dir);
            out.println("Report of " + reported.size() + " runs: " + dir.resolve(BenchmarkReport.HTML) + " (and "
                    + BenchmarkReport.MARKDOWN + ", " + BenchmarkReport.TABLE + ")");
            return 0;
        } catch (IllegalArgumentException e) {
            LOG.debug("Usage error", e);
            err.println("report: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            LOG.error("The report failed", e);
            err.println("report failed: " + DocumentJobs.rootMessage(e));
            return 1;
        }
    }

    /** The runs of {@code dirs} in order, a benchmark directory standing for all its configurations. */
    static List<ReportedRun> load(List<String> dirs, List<String> names) {
        List<ReportedRun> found = new ArrayList<>();
        for (String d : dirs) {
            Path dir = Path.of(d.strip());
            List<ReportedRun> benchmark = BenchmarkCommand.runsOf(dir);
            if (benchmark.isEmpty()) {
                // A plain run: its options are told apart from the first run's below.
                found.add(new ReportedRun(dir.getFileName().toString(), found.size(), null, RunDirectory.load(dir)));
            } else {
                found.addAll(benchmark);
            }
        }
        if (!names.isEmpty() && names.size() != found.size()) {
            throw new IllegalArgumentException("--names gives " + names.size() + " names for " + found.size()
                    + " runs");
        }
        JsonNode firstOptions = found.get(0).directory().manifest().path("options");
        List<ReportedRun> out = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
            ReportedRun run = found.get(i);
            String name = names.isEmpty() ? run.name() : names.get(i).strip();
            String options = run.options() != null ? run.options()
                    : differences(firstOptions, run.directory().manifest().path("options"));
            out.add(new ReportedRun(name, i, options, run.directory()));
        }
        return out;
    }

    /** The options of {@code options} whose values differ from {@code first}'s, as --name=value words. */
    static String differences(JsonNode first, JsonNode options) {
        List<String> words = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = options.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> option = it.next();
            if (option.getKey().equals("runId") || option.getKey().equals("output")) {
                continue;
            }
            if (!option.getValue().equals(first.path(option.getKey()))) {
                words.add("--" + CommandOptions.kebab(option.getKey()) + "=" + option.getValue().asText());
            }
        }
        return String.join(" ", words);
    }
}
