package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.KeySpan;
import dev.pflash.runtime.engine.StageTimings;
import dev.pflash.runtime.engine.TokenCounts;
import java.util.ArrayList;
import java.util.List;

/** Adds up a document's engine calls, in the order they ran, into an {@link EngineUsage}. */
final class UsageAccumulator {
    private int calls;
    private double prefixLookupMs;
    private double draftMs;
    private double selectMs;
    private double targetPrefillMs;
    private double decodeMs;
    private double elapsedBeforeLastMs;
    private double lastTtftMs;
    private double lastDecodeMs;
    private int generatedTokens;
    private int decodedTokens;
    private int prefilledTokens;
    private int prefixTokensReused;
    private int keptBodyTokens;
    private final List<KeptSpan> keySpans = new ArrayList<>();

    /** A call whose body is the document's body from {@code bodyOffset} on (the whole body, or a window). */
    void addBodyCall(EngineResult result, int bodyOffset) {
        add(result);
        keptBodyTokens += result.tokens().keptBody();
        for (KeySpan span : result.keySpans()) {
            keySpans.add(KeptSpan.of(span, bodyOffset));
        }
    }

    /** A call whose body is text the pipeline wrote (joined window summaries). */
    void addCombineCall(EngineResult result) {
        add(result);
    }

    private void add(EngineResult result) {
        StageTimings t = result.timings();
        TokenCounts n = result.tokens();
        elapsedBeforeLastMs += lastTtftMs + lastDecodeMs;
        lastTtftMs = t.ttftMs();
        lastDecodeMs = t.decodeMs();
        calls++;
        prefixLookupMs += t.prefixLookupMs();
        draftMs += t.draftMs();
        selectMs += t.selectMs();
        targetPrefillMs += t.targetPrefillMs();
        decodeMs += t.decodeMs();
        generatedTokens += n.generated();
        decodedTokens += Math.max(n.generated() - 1, 0);
        prefilledTokens += n.targetPrefilled();
        prefixTokensReused += n.prefixReused();
    }

    EngineUsage build() {
        return new EngineUsage(calls, prefixLookupMs, draftMs, selectMs, targetPrefillMs,
                elapsedBeforeLastMs + lastTtftMs, decodeMs, generatedTokens, decodedTokens, prefilledTokens,
                prefixTokensReused, keptBodyTokens, keySpans);
    }
}
