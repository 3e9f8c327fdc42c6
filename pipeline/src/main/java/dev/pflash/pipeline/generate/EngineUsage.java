package dev.pflash.pipeline.generate;

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

    /** Decode throughput: tokens after each call's first one, per second of decoding; 0 without decoding. */
    public double decodeTokensPerSecond() {
        return decodeMs > 0 ? decodedTokens * 1000.0 / decodeMs : 0;
    }
}
