package dev.pflash.runtime.pflash;

/**
 * What one drafter pass cost: wall time of the forward pass without scoring, of the FlashPrefill
 * attention inside it, and of tail scoring; how many (head, query block, key block) triples the
 * sparse attention read against the causal total; and the peak backend memory, in all and for keys
 * and values.
 */
public record DraftStats(int tokens, int layers, double forwardMs, double attentionMs, double scoringMs,
        long selectedBlockPairs, long causalBlockPairs, long peakKeyValueBytes, long peakBytes) {

    /** No pass: the selection did not need the drafter's scores. */
    public static DraftStats skipped(int tokens) {
        return new DraftStats(tokens, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** Fraction of the causal block pairs the sparse attention read (1 when dense, 0 when no attention ran). */
    public double blockDensity() {
        return causalBlockPairs == 0 ? 0 : (double) selectedBlockPairs / causalBlockPairs;
    }
}
