package dev.pflash.jobs.report;

import dev.pflash.pipeline.output.Percentiles;
import dev.pflash.schemas.BenchmarkRow;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The summary figures of one configuration, computed from its rows of {@code benchmark.parquet}
 * and its run's wall time: throughput, TTFT percentiles (nearest rank, over documents that
 * succeeded), prefix reuse, PFlash compression and failures by stage.
 *
 * @param meanKeepRatio mean of kept / body tokens over the compressed documents; NaN when none
 */
public record ConfigSummary(String config, long documentsOk, long documentsFailed, double wallSeconds,
        long promptTokens, long generatedTokens, double ttftP50Ms, double ttftP95Ms, double ttftP99Ms,
        double prefixHitRate, long documentsCompressed, double meanKeepRatio, double ttftSavedMs,
        Map<String, Long> failuresByStage) {

    public static ConfigSummary of(String config, List<BenchmarkRow> rows, double wallSeconds) {
        List<BenchmarkRow> ok = rows.stream().filter(BenchmarkRow::getOk).toList();
        List<Double> ttft = ok.stream().map(BenchmarkRow::getTtftMs).sorted().toList();
        long prompt = ok.stream().mapToLong(BenchmarkRow::getPromptTokens).sum();
        long reused = ok.stream().mapToLong(BenchmarkRow::getPrefixTokensReused).sum();
        List<BenchmarkRow> compressed = ok.stream().filter(r -> r.getKeptTokens() < r.getBodyTokens()).toList();
        Map<String, Long> failures = new TreeMap<>();
        rows.stream().filter(r -> !r.getOk()).forEach(r -> failures.merge(r.getErrorStage(), 1L, Long::sum));
        return new ConfigSummary(config, ok.size(), rows.size() - ok.size(), wallSeconds, prompt,
                ok.stream().mapToLong(BenchmarkRow::getGeneratedTokens).sum(), Percentiles.nearestRank(ttft, 50),
                Percentiles.nearestRank(ttft, 95), Percentiles.nearestRank(ttft, 99),
                prompt == 0 ? 0 : (double) reused / prompt, compressed.size(),
                compressed.stream().mapToDouble(BenchmarkRow::getKeepRatio).average().orElse(Double.NaN),
                compressed.stream().mapToDouble(BenchmarkRow::getTtftSavedMs).sum(), failures);
    }

    public long documents() {
        return documentsOk + documentsFailed;
    }

    public double documentsPerSecond() {
        return perSecond(documents());
    }

    public double promptTokensPerSecond() {
        return perSecond(promptTokens);
    }

    public double generatedTokensPerSecond() {
        return perSecond(generatedTokens);
    }

    private double perSecond(long count) {
        return wallSeconds > 0 ? count / wallSeconds : 0;
    }
}
