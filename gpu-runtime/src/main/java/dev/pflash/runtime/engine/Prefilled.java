package dev.pflash.runtime.engine;

import dev.pflash.runtime.model.KvCache;

/**
 * One prompt after prefill: the KV cache of its sequence (its own), the logits of its last token,
 * the prompt tokens it reused instead of computing (from the prefix cache, or from the prefix its
 * batch computed once), and what prefill cost: {@code startNanos} is when its batch began,
 * {@code readyNanos} when its logits were ready.
 */
record Prefilled(PrefillPlan plan, KvCache cache, float[] logits, int reused, long startNanos, long readyNanos,
        double lookupMs, double prefillMs) implements AutoCloseable {

    Prompt prompt() {
        return plan.prompt();
    }

    TokenCounts tokens(int generated) {
        Prompt p = plan.prompt();
        int keptBody = plan.sequence().length - p.prefixTokens().length - p.suffixTokens().length;
        return new TokenCounts(p.length(), p.prefixTokens().length, p.bodyTokens().length, p.suffixTokens().length,
                keptBody, reused, generated);
    }

    /** Stage timings with TTFT up to {@code firstNanos} and decoding from then to {@code endNanos}. */
    StageTimings timings(long firstNanos, long endNanos) {
        BodySelection s = plan.selection();
        return new StageTimings(lookupMs, s.draftMs(), s.selectMs(), prefillMs, millis(startNanos, firstNanos),
                millis(firstNanos, endNanos));
    }

    static double millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1e6;
    }

    @Override
    public void close() {
        cache.close();
    }
}
