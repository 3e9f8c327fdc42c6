package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Classification;
import dev.pflash.runtime.engine.StageTimings;
import dev.pflash.runtime.engine.TokenCounts;
import java.io.Serializable;
import java.util.List;

/**
 * What the engine spent on one document, over all its calls (one call when the prompt fit;
 * window and combine calls when it was split). Times are milliseconds. {@code ttftMs} runs to the
 * first token of the final summary, so for a split document it includes every earlier call.
 * {@code keptBodyTokens} and {@code keySpans} cover the document's own body (window calls), not
 * the joined window summaries.
 */
public record EngineUsage(int calls, double prefixLookupMs, double draftMs, double selectMs, double targetPrefillMs,
        double ttftMs, double decodeMs, int generatedTokens, int decodedTokens, int prefilledTokens,
        int prefixTokensReused, int keptBodyTokens, List<KeptSpan> keySpans) implements Serializable {
    public EngineUsage {
        keySpans = List.copyOf(keySpans);
    }

    /**
     * What one classification call spent. Label scoring, which runs where decoding would, counts
     * as {@code decodeMs}; nothing is generated.
     */
    public static EngineUsage of(Classification classification) {
        StageTimings t = classification.timings();
        TokenCounts n = classification.tokens();
        List<KeptSpan> spans = classification.keySpans().stream().map(s -> KeptSpan.of(s, 0)).toList();
        return new EngineUsage(1, t.prefixLookupMs(), t.draftMs(), t.selectMs(), t.targetPrefillMs(), t.ttftMs(),
                classification.scoreMs(), 0, 0, n.targetPrefilled(), n.prefixReused(), n.keptBody(), spans);
    }

    /** Decode throughput: tokens after each call's first one, per second of decoding; 0 without decoding. */
    public double decodeTokensPerSecond() {
        return decodeMs > 0 ? decodedTokens * 1000.0 / decodeMs : 0;
    }
}
