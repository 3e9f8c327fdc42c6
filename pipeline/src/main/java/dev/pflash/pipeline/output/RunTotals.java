package dev.pflash.pipeline.output;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's counts as its metrics report them: documents done and failed (failures by stage,
 * sorted by stage name), prompt tokens in and summary tokens out, the TTFT median and 95th
 * percentile in milliseconds (null until the run has results), and the prompt tokens whose KV was
 * reused rather than computed (from the prefix cache, or shared within a batch).
 */
public record RunTotals(long documentsOk, long documentsFailed, Map<String, Long> failuresByStage, long promptTokens,
        long generatedTokens, Double ttftP50Ms, Double ttftP95Ms, long prefixTokensReused) {
    public RunTotals {
        failuresByStage = Collections.unmodifiableSortedMap(new TreeMap<>(failuresByStage));
    }

    /** Totals of a run that reused no prefix KV. */
    public RunTotals(long documentsOk, long documentsFailed, Map<String, Long> failuresByStage, long promptTokens,
            long generatedTokens, Double ttftP50Ms, Double ttftP95Ms) {
        this(documentsOk, documentsFailed, failuresByStage, promptTokens, generatedTokens, ttftP50Ms, ttftP95Ms, 0);
    }

    /** Share of prompt tokens whose KV was reused; 0 before any. */
    public double prefixHitRate() {
        return promptTokens == 0 ? 0 : (double) prefixTokensReused / promptTokens;
    }

    public long documents() {
        return documentsOk + documentsFailed;
    }
}
