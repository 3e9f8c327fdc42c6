package dev.pflash.pipeline.output;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's counts as its metrics report them: documents summarized and failed (failures by stage,
 * sorted by stage name), prompt tokens in and summary tokens out, and the TTFT median and 95th
 * percentile in milliseconds (null until the run has results).
 */
public record RunTotals(long documentsOk, long documentsFailed, Map<String, Long> failuresByStage, long promptTokens,
        long generatedTokens, Double ttftP50Ms, Double ttftP95Ms) {
    public RunTotals {
        failuresByStage = Collections.unmodifiableSortedMap(new TreeMap<>(failuresByStage));
    }

    public long documents() {
        return documentsOk + documentsFailed;
    }
}
