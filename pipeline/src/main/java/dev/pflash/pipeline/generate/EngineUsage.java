package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Classification;
import dev.pflash.runtime.engine.CompressionDecision;
import dev.pflash.runtime.engine.StageTimings;
import dev.pflash.runtime.engine.TokenCounts;
import java.io.Serializable;
import java.util.List;

/**
 * What the engine spent on one document, over all its calls (one call when the prompt fit;
 * window and combine calls when it was split). Times are milliseconds. {@code ttftMs} runs to the
 * first token of the final summary, so for a split document it includes every earlier call.
 * {@code keptBodyTokens} and {@code keySpans} cover the document's own body (window calls), not
 * the joined window summaries. {@code compressionDecision} is the engine's decision for the body
 * ({@link CompressionDecision#columnValue()}; a compressing one wins over the others of a split
 * document) and {@code predictedDenseMs} its predicted target prefill of the body without PFlash,
 * summed over the body's calls (NaN when the engine did not predict it).
 */
public record EngineUsage(int calls, double prefixLookupMs, double draftMs, double selectMs, double targetPrefillMs,
        double ttftMs, double decodeMs, int generatedTokens, int decodedTokens, int prefilledTokens,
        int prefixTokensReused, int keptBodyTokens, List<KeptSpan> keySpans, String compressionDecision,
        double predictedDenseMs) implements Serializable {
    public EngineUsage {
        keySpans = List.copyOf(keySpans);
    }

    /** Usage of calls that compression was off for. */
    public EngineUsage(int calls, double prefixLookupMs, double draftMs, double selectMs, double targetPrefillMs,
            double ttftMs, double decodeMs, int generatedTokens, int decodedTokens, int prefilledTokens,
            int prefixTokensReused, int keptBodyTokens, List<KeptSpan> keySpans) {
        this(calls, prefixLookupMs, draftMs, selectMs, targetPrefillMs, ttftMs, decodeMs, generatedTokens,
                decodedTokens, prefilledTokens, prefixTokensReused, keptBodyTokens, keySpans,
                CompressionDecision.off().columnValue(), Double.NaN);
    }

    /** Whether PFlash compressed the body. */
    public boolean compressed() {
        return compressionDecision.endsWith(":compress");
    }

    /**
     * Estimated time to first token that compression saved: the predicted dense prefill of the body
     * minus what the drafter pass, the selection and the target prefill took; 0 when the body was
     * not compressed or nothing was predicted.
     */
    public double ttftSavedMs() {
        if (!compressed() || Double.isNaN(predictedDenseMs)) {
            return 0;
        }
        return predictedDenseMs - (draftMs + selectMs + targetPrefillMs);
    }

    /**
     * What one classification call spent. Label scoring, which runs where decoding would, counts
     * as {@code decodeMs}; nothing is generated.
     */
    public static EngineUsage of(Classification classification) {
        StageTimings t = classification.timings();
        TokenCounts n = classification.tokens();
        List<KeptSpan> spans = classification.keySpans().stream().map(s -> KeptSpan.of(s, 0)).toList();
        CompressionDecision decision = classification.compression();
        return new EngineUsage(1, t.prefixLookupMs(), t.draftMs(), t.selectMs(), t.targetPrefillMs(), t.ttftMs(),
                classification.scoreMs(), 0, 0, n.targetPrefilled(), n.prefixReused(), n.keptBody(), spans,
                decision.columnValue(), decision.predictedDenseMs());
    }

    /** Decode throughput: tokens after each call's first one, per second of decoding; 0 without decoding. */
    public double decodeTokensPerSecond() {
        return decodeMs > 0 ? decodedTokens * 1000.0 / decodeMs : 0;
    }
}
