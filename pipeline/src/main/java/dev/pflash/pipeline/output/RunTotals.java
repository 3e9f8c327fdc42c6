package dev.pflash.pipeline.output;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's counts as its metrics report them: documents done and failed (failures by stage,
 * sorted by stage name), prompt tokens in and summary tokens out, the TTFT median and 95th
 * percentile in milliseconds (null until the run has results), the prompt tokens whose KV was
 * reused rather than computed (from the prefix cache, or shared within a batch), and PFlash's
 * part: documents whose body it compressed, their body tokens and the tokens kept of them, and the
 * estimated time to first token it saved over all of them.
 */
public record RunTotals(long documentsOk, long documentsFailed, Map<String, Long> failuresByStage, long promptTokens,
        long generatedTokens, Double ttftP50Ms, Double ttftP95Ms, long prefixTokensReused, long documentsCompressed,
        long compressedBodyTokens, long compressedKeptTokens, double ttftSavedMs) {
    public RunTotals {
        failuresByStage = Collections.unmodifiableSortedMap(new TreeMap<>(failuresByStage));
    }

    /** Totals of a run that compressed nothing. */
    public RunTotals(long documentsOk, long documentsFailed, Map<String, Long> failuresByStage, long promptTokens,
            long generatedTokens, Double ttftP50Ms, Double ttftP95Ms, long prefixTokensReused) {
        this(documentsOk, documentsFailed, failuresByStage, promptTokens, generatedTokens, ttftP50Ms, ttftP95Ms,
                prefixTokensReused, 0, 0, 0, 0);
    }

    /** Totals of a run that reused no prefix KV. */
    public RunTotals(long documentsOk, long documentsFailed, Map<String, Long> failuresByStage, long promptTokens,
            long generatedTokens, Double ttftP50Ms, Double ttftP95Ms) {
        this(documentsOk, documentsFailed, failuresByStage, promptTokens, generatedTokens, ttftP50Ms, ttftP95Ms, 0);
    }

    /** Share of the compressed bodies' tokens that the target prefilled; 0 when nothing was compressed. */
    public double keptShare() {
        return compressedBodyTokens == 0 ? 0 : (double) compressedKeptTokens / compressedBodyTokens;
    }

    /** Share of prompt tokens whose KV was reused; 0 before any. */
    public double prefixHitRate() {
        return promptTokens == 0 ? 0 : (double) prefixTokensReused / promptTokens;
    }

    public long documents() {
        return documentsOk + documentsFailed;
    }
}
