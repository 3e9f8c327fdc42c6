package dev.pflash.runtime.engine;

import java.util.List;
import java.util.Objects;

/**
 * What the engine returns for one prompt: the generated text and tokens, why decoding stopped,
 * token counts, stage timings, the body spans PFlash kept (empty when nothing was compressed), and
 * why the body was or was not compressed.
 */
public record EngineResult(String promptId, String text, int[] generatedTokens, FinishReason finishReason,
        TokenCounts tokens, StageTimings timings, List<KeySpan> keySpans, CompressionDecision compression) {
    public EngineResult {
        Objects.requireNonNull(promptId, "promptId");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(compression, "compression");
        generatedTokens = generatedTokens.clone();
        keySpans = List.copyOf(keySpans);
    }

    /** A result of an engine that does not compress. */
    public EngineResult(String promptId, String text, int[] generatedTokens, FinishReason finishReason,
            TokenCounts tokens, StageTimings timings, List<KeySpan> keySpans) {
        this(promptId, text, generatedTokens, finishReason, tokens, timings, keySpans, CompressionDecision.off());
    }

    @Override
    public int[] generatedTokens() {
        return generatedTokens.clone();
    }

    public enum FinishReason {
        /** The model produced an end-of-sequence or stop token. */
        STOP,
        /** maxNewTokens were generated. */
        LENGTH,
        /** The context window filled up. */
        CONTEXT
    }
}
