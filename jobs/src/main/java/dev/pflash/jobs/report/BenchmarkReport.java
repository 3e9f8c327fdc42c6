package dev.pflash.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pflash.schemas.BenchmarkRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * The report over several runs of the document pipeline, one per configuration: written as
 * {@code report.html} (self-contained: styles and SVG plots inline, no script, nothing fetched),
 * its Markdown twin {@code report.md} (plots as SVG files under {@code plots/}), and
 * {@code benchmark.parquet}, the rows every figure is computed from.
 */
public final class BenchmarkReport {
    public static final String HTML = "report.html";
    public static final String MARKDOWN = "report.md";
    public static final String TABLE = "benchmark.parquet";
    public static final String PLOTS = "plots";
    /** Output tokens compared for exact agreement. */
    public static final int AGREEMENT_TOKENS = 16;
    /** Documents listed one by one; a larger corpus is summarized only. */
    static final int LISTED_DOCUMENTS = 100;

    private final List<ReportedRun> runs;
    private final Map<String, List<BenchmarkRow>> byConfig = new LinkedHashMap<>();
    private final List<ConfigSummary> summaries = new ArrayList<>();
    private final List<OutputAgreement> agreements = new ArrayList<>();

    public BenchmarkReport(List<ReportedRun> runs) {
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("a report needs at least one run");
        }
        this.runs = List.copyOf(runs);
        for (ReportedRun run : runs) {
            if (byConfig.containsKey(run.name())) {
                throw new IllegalArgumentException("two runs are named '" + run.name() + "'");
            }
            List<BenchmarkRow> rows = BenchmarkRows.of(run);
            byConfig.put(run.name(), rows);
            summaries.add(ConfigSummary.of(run.name(), rows, run.directory().wallSeconds()));
        }
        List<ReportedRun> greedy = runs.stream().filter(r -> r.directory().greedy()).toList();
        for (ReportedRun other : greedy.subList(Math.min(1, greedy.size()), greedy.size())) {
            ReportedRun base = greedy.get(0);
            agreements.add(OutputAgreement.of(base.name(), byConfig.get(base.name()), other.name(),
                    byConfig.get(other.name()), AGREEMENT_TOKENS));
        }
    }

    public List<ConfigSummary> summaries() {
        return summaries;
    }

    public List<OutputAgreement> agreements() {
        return agreements;
    }

    /** Writes the table, the plots and both reports into {@code directory}. */
    public void writeTo(Path directory) {
        try {
            Files.createDirectories(directory.resolve(PLOTS));
            BenchmarkRows.write(byConfig.values().stream().flatMap(List::stream).toList(), directory.resolve(TABLE));
            List<ReportCharts.Plot> plots = ReportCharts.all(byConfig, agreements);
            for (ReportCharts.Plot plot : plots) {
                Files.writeString(directory.resolve(PLOTS).resolve(plot.name() + ".svg"), plot.svg(),
                        StandardCharsets.UTF_8);
            }
            Files.writeString(directory.resolve(MARKDOWN), markdown(plots), StandardCharsets.UTF_8);
            Files.writeString(directory.resolve(HTML), html(plots), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(directory + ": cannot write the report: " + e.getMessage(), e);
        }
    }

    /** The report's tables, as rows of cells; the first row is the header. */
    private Map<String, List<List<String>>> tables() {
        Map<String, List<List<String>>> tables = new LinkedHashMap<>();
        tables.put("Machine and models", machineTable());
        tables.put("Configurations", configTable());
        tables.put("Summary", summaryTable());
        if (!agreements.isEmpty()) {
            tables.put("Output agreement", agreementTable());
        }
        tables.put("Documents", documentTable());
        return tables;
    }

    private List<List<String>> machineTable() {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("configuration", "machine", "backend", "target", "target sha256", "drafter", "drafter sha256",
                "context", "PFlash auto crossover (body tokens)"));
        for (ReportedRun run : runs) {
            JsonNode m = run.directory().manifest().path("models");
            JsonNode machine = run.directory().manifest().path("machine");
            String where = machine.isMissingNode() ? "-" : machine.path("os").asText() + ", " + machine.path("arch")
                    .asText() + ", " + machine.path("cores").asText() + " cores, " + machine.path("java").asText();
            JsonNode crossover = m.path("pflash_auto_crossover_body_tokens");
            t.add(List.of(run.name(), where, m.path("backend").asText(), m.path("target").asText(),
                    m.path("target_sha256").asText(), text(m.path("drafter")), text(m.path("drafter_sha256")),
                    m.path("context_length").asText(),
                    crossover.isNumber() ? (crossover.asInt() < 0 ? "never" : crossover.asText()) : "-"));
        }
        return t;
    }

    private List<List<String>> configTable() {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("configuration", "options", "run id", "run directory", "wall s", "greedy"));
        for (ReportedRun run : runs) {
            t.add(List.of(run.name(), run.options().isEmpty() ? "-" : run.options(), run.directory().runId(),
                    run.directory().directory().toString(), fmt("%.1f", run.directory().wallSeconds()),
                    run.directory().greedy() ? "yes" : "no"));
        }
        return t;
    }

    private List<List<String>> summaryTable() {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("configuration", "documents ok", "failed", "wall s", "documents/s", "prompt tokens/s",
                "generated tokens/s", "TTFT p50 ms", "TTFT p95 ms", "TTFT p99 ms", "prefix hit rate",
                "compressed", "mean keep ratio", "TTFT saved (est.) s", "failures by stage"));
        ConfigSummary first = summaries.get(0);
        for (ConfigSummary s : summaries) {
            t.add(List.of(s.config(), Long.toString(s.documentsOk()), Long.toString(s.documentsFailed()),
                    withRatio("%.1f", s, first, ConfigSummary::wallSeconds),
                    withRatio("%.3f", s, first, ConfigSummary::documentsPerSecond),
                    withRatio("%.1f", s, first, ConfigSummary::promptTokensPerSecond),
                    withRatio("%.2f", s, first, ConfigSummary::generatedTokensPerSecond),
                    withRatio("%.1f", s, first, ConfigSummary::ttftP50Ms),
                    withRatio("%.1f", s, first, ConfigSummary::ttftP95Ms),
                    withRatio("%.1f", s, first, ConfigSummary::ttftP99Ms),
                    fmt("%.1f%%", 100 * s.prefixHitRate()), Long.toString(s.documentsCompressed()),
                    Double.isNaN(s.meanKeepRatio()) ? "-" : fmt("%.3f", s.meanKeepRatio()),
                    fmt("%.2f", s.ttftSavedMs() / 1000),
                    s.failuresByStage().isEmpty() ? "-" : s.failuresByStage().entrySet().stream()
                            .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "))));
        }
        return t;
    }

    private List<List<String>> agreementTable() {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("configuration", "against", "documents", "first " + AGREEMENT_TOKENS + " tokens identical",
                "mean token overlap"));
        for (OutputAgreement a : agreements) {
            t.add(List.of(a.config(), a.baseline(), Integer.toString(a.documents()),
                    fmt("%.1f%%", 100 * a.exactFirstN()), fmt("%.3f", a.tokenOverlap())));
        }
        return t;
    }

    /** One row per document: its body length, then each configuration's decision, kept tokens and TTFT. */
    private List<List<String>> documentTable() {
        Map<String, Map<String, BenchmarkRow>> docs = new TreeMap<>();
        byConfig.forEach((config, rows) -> rows.forEach(r -> docs.computeIfAbsent(r.getUri(), u -> new TreeMap<>())
                .put(config, r)));
        List<List<String>> t = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("document", "body tokens"));
        byConfig.keySet().forEach(c -> header.add(c + ": decision, kept, TTFT ms"));
        t.add(header);
        Iterator<Map.Entry<String, Map<String, BenchmarkRow>>> it = docs.entrySet().iterator();
        for (int i = 0; i < LISTED_DOCUMENTS && it.hasNext(); i++) {
            Map.Entry<String, Map<String, BenchmarkRow>> doc = it.next();
            List<String> row = new ArrayList<>();
            row.add(Path.of(doc.getKey().replaceFirst("^file:", "")).getFileName().toString());
            row.add(doc.getValue().values().stream().filter(BenchmarkRow::getOk).findFirst()
                    .map(r -> Integer.toString(r.getBodyTokens())).orElse("-"));
            for (String config : byConfig.keySet()) {
                BenchmarkRow r = doc.getValue().get(config);
                row.add(r == null ? "-" : !r.getOk() ? "failed (" + r.getErrorStage() + ")"
                        : r.getCompressionDecision() + ", " + r.getKeptTokens() + ", " + fmt("%.1f", r.getTtftMs()));
            }
            t.add(row);
        }
        return t;
    }

    private String notes() {
        StringBuilder notes = new StringBuilder();
        boolean demo = runs.stream().anyMatch(r -> r.directory().manifest().path("models").path("demo_models")
                .asBoolean(false));
        if (demo) {
            notes.append("Demo or synthetic models: their weights are random, so outputs are noise; timings and"
                    + " token counts are real.\n");
        }
        notes.append("Ratios (×) are against the first configuration, ").append(runs.get(0).name())
                .append(". TTFT percentiles are nearest-rank over the documents that succeeded. Documents/s counts"
                        + " failed documents too. Compression decisions read <reason>:<compress|dense>.\n");
        if (agreements.isEmpty()) {
            notes.append("No output agreement: fewer than two configurations decoded greedily (--temperature=0).\n");
        }
        Set<String> jobs = runs.stream().map(r -> r.directory().job()).collect(Collectors.toCollection(TreeSet::new));
        notes.append("Jobs: ").append(String.join(", ", jobs)).append(". Made ").append(Instant.now()).append(".\n");
        return notes.toString();
    }

    String markdown(List<ReportCharts.Plot> plots) {
        StringBuilder md = new StringBuilder("# PFlash Batch benchmark report\n\n");
        for (String line : notes().split("\n")) {
            md.append(line).append("\n\n");
        }
        tables().forEach((title, rows) -> {
            md.append("## ").append(title).append("\n\n");
            for (int i = 0; i < rows.size(); i++) {
                md.append("| ").append(rows.get(i).stream().map(c -> c.replace("|", "\\|"))
                        .collect(Collectors.joining(" | "))).append(" |\n");
                if (i == 0) {
                    md.append("|").append(" --- |".repeat(rows.get(0).size())).append("\n");
                }
            }
            md.append("\n");
            if (title.equals("Summary")) {
                md.append("## Plots\n\n");
                for (ReportCharts.Plot p : plots) {
                    md.append("![").append(p.caption()).append("](").append(PLOTS).append('/').append(p.name())
                            .append(".svg)\n\n");
                }
            }
        });
        return md.toString();
    }

    String html(List<ReportCharts.Plot> plots) {
        StringBuilder h = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>PFlash Batch benchmark report</title><style>"
                + "body{font-family:sans-serif;margin:2em;max-width:1200px}"
                + "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
                + "th,td{border:1px solid #bbb;padding:0.3em 0.5em;text-align:left;vertical-align:top}"
                + "th{background:#eee}figure{margin:1em 0}figcaption{font-style:italic}"
                + "</style></head><body>\n<h1>PFlash Batch benchmark report</h1>\n");
        for (String line : notes().split("\n")) {
            h.append("<p>").append(escape(line)).append("</p>\n");
        }
        tables().forEach((title, rows) -> {
            h.append("<h2>").append(escape(title)).append("</h2>\n<table>\n");
            for (int i = 0; i < rows.size(); i++) {
                String cell = i == 0 ? "th" : "td";
                h.append("<tr>");
                rows.get(i).forEach(c -> h.append('<').append(cell).append('>').append(escape(c)).append("</")
                        .append(cell).append('>'));
                h.append("</tr>\n");
            }
            h.append("</table>\n");
            if (title.equals("Summary")) {
                h.append("<h2>Plots</h2>\n");
                for (ReportCharts.Plot p : plots) {
                    h.append("<figure class=\"plot\" id=\"").append(p.name()).append("\">").append(p.svg())
                            .append("<figcaption>").append(escape(p.caption())).append("</figcaption></figure>\n");
                }
            }
        });
        return h.append("</body></html>\n").toString();
    }

    private static String withRatio(String format, ConfigSummary s, ConfigSummary first,
            ToDoubleFunction<ConfigSummary> figure) {
        double value = figure.applyAsDouble(s);
        double base = figure.applyAsDouble(first);
        if (Double.isNaN(value)) {
            return "-";
        }
        String text = fmt(format, value);
        return s == first || !(base > 0) ? text : text + " (×" + fmt("%.2f", value / base) + ")";
    }

    private static String text(JsonNode node) {
        return node.isNull() || node.isMissingNode() ? "-" : node.asText();
    }

    static String fmt(String format, double value) {
        return String.format(Locale.ROOT, format, value);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
