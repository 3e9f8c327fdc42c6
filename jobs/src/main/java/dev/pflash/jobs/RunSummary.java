package dev.pflash.jobs;

import dev.pflash.pipeline.output.RunTotals;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** The end-of-run table: documents, tokens, prefix KV reuse, TTFT percentiles, wall time and throughput. */
public record RunSummary(String runId, String output, long filesMatched, RunTotals totals, double wallSeconds) {
    public double documentsPerSecond() {
        return wallSeconds > 0 ? totals.documents() / wallSeconds : 0;
    }

    public String table() {
        StringBuilder table = new StringBuilder();
        table.append("Run ").append(runId).append(" -> ").append(output).append('\n');
        row(table, "files matched", String.format(Locale.ROOT, "%,d", filesMatched));
        row(table, "documents ok", String.format(Locale.ROOT, "%,d", totals.documentsOk()));
        row(table, "documents failed", String.format(Locale.ROOT, "%,d", totals.documentsFailed())
                + stages(totals.failuresByStage()));
        row(table, "tokens in", String.format(Locale.ROOT, "%,d", totals.promptTokens()));
        row(table, "tokens out", String.format(Locale.ROOT, "%,d", totals.generatedTokens()));
        row(table, "prefix hit rate", String.format(Locale.ROOT, "%.1f%% (%,d prompt tokens reused)",
                100 * totals.prefixHitRate(), totals.prefixTokensReused()));
        row(table, "PFlash compressed", String.format(Locale.ROOT, "%,d documents", totals.documentsCompressed()));
        if (totals.documentsCompressed() > 0) {
            row(table, "body tokens kept", String.format(Locale.ROOT, "%,d of %,d (%.1f%%)",
                    totals.compressedKeptTokens(), totals.compressedBodyTokens(), 100 * totals.keptShare()));
            row(table, "TTFT saved (est.)", String.format(Locale.ROOT, "%.1f s", totals.ttftSavedMs() / 1000));
        }
        row(table, "TTFT p50", millis(totals.ttftP50Ms()));
        row(table, "TTFT p95", millis(totals.ttftP95Ms()));
        row(table, "wall time", String.format(Locale.ROOT, "%.1f s", wallSeconds));
        row(table, "documents/s", String.format(Locale.ROOT, "%.2f", documentsPerSecond()));
        return table.toString();
    }

    private static void row(StringBuilder table, String name, String value) {
        table.append(String.format(Locale.ROOT, "  %-17s %s%n", name, value));
    }

    private static String stages(Map<String, Long> byStage) {
        if (byStage.isEmpty()) {
            return "";
        }
        return byStage.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", ", " (", ")"));
    }

    private static String millis(Double ms) {
        return ms == null ? "-" : String.format(Locale.ROOT, "%.1f ms", ms);
    }
}
