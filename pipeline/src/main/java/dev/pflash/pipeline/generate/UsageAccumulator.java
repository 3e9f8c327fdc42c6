package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.CompressionDecision;
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
    private String compressionDecision;
    private double predictedDenseMs;

    /** A call whose body is the document's body from {@code bodyOffset} on (the whole body, or a window). */
    void addBodyCall(EngineResult result, int bodyOffset) {
        addBatch(List.of(result), List.of(bodyOffset));
    }

    /** A call whose body is text the pipeline wrote (joined window summaries). */
    void addCombineCall(EngineResult result) {
        addBatch(List.of(result), null);
    }

    /**
     * Calls that ran together in one engine batch, so they took as long as the slowest of them.
     * {@code bodyOffsets} says where each call's body starts in the document's body; null when
     * their bodies are text the pipeline wrote.
     */
    void addBatch(List<EngineResult> results, List<Integer> bodyOffsets) {
        elapsedBeforeLastMs += lastTtftMs + lastDecodeMs;
        lastTtftMs = 0;
        lastDecodeMs = 0;
        for (int i = 0; i < results.size(); i++) {
            EngineResult result = results.get(i);
            add(result);
            if (bodyOffsets != null) {
                keptBodyTokens += result.tokens().keptBody();
                addDecision(result.compression());
                for (KeySpan span : result.keySpans()) {
                    keySpans.add(KeptSpan.of(span, bodyOffsets.get(i)));
                }
            }
        }
    }

    /** The first body call's decision, unless a later one compressed; predictions summed. */
    private void addDecision(CompressionDecision decision) {
        if (compressionDecision == null || (decision.compressed() && !compressionDecision.endsWith(":compress"))) {
            compressionDecision = decision.columnValue();
        }
        predictedDenseMs += decision.predictedDenseMs();
    }

    private void add(EngineResult result) {
        StageTimings t = result.timings();
        TokenCounts n = result.tokens();
        if (t.ttftMs() + t.decodeMs() > lastTtftMs + lastDecodeMs) {
            lastTtftMs = t.ttftMs();
            lastDecodeMs = t.decodeMs();
        }
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
                prefixTokensReused, keptBodyTokens, keySpans,
                compressionDecision == null ? CompressionDecision.off().columnValue() : compressionDecision,
                compressionDecision == null ? Double.NaN : predictedDenseMs);
    }
}
