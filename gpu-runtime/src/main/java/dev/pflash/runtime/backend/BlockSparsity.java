package dev.pflash.runtime.backend;

/**
 * The FlashPrefill rule (PFLASH.md step 6) that picks, for each query block and head, the key
 * blocks its attention reads. Blocks are {@code blockTokens} long. Key block {@code n} is kept for
 * query block {@code m} when its block score is at least {@code alpha} times the row's best (scores
 * compared as probabilities over the key blocks of the row, so the test does not depend on their
 * normalisation), when it is one of the first {@code sinkBlocks} blocks, when {@code m - n <
 * windowBlocks} (the diagonal included), or when {@code m} is one of the last {@code
 * denseLastBlocks} query blocks of the sequence. Alpha 0 keeps every block: dense attention.
 */
public record BlockSparsity(int blockTokens, double alpha, int sinkBlocks, int windowBlocks, int denseLastBlocks) {
    public BlockSparsity {
        if (blockTokens < 1) {
            throw new IllegalArgumentException("attention block must hold at least 1 token, got " + blockTokens);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("block threshold alpha must be in [0, 1], got " + alpha);
        }
        if (sinkBlocks < 0 || windowBlocks < 1 || denseLastBlocks < 0) {
            throw new IllegalArgumentException("sink blocks (" + sinkBlocks + ") and dense last blocks ("
                    + denseLastBlocks + ") must be >= 0 and the window (" + windowBlocks + ") >= 1");
        }
    }

    /** Every causal block of every row: dense attention computed blockwise. */
    public static BlockSparsity dense(int blockTokens) {
        return new BlockSparsity(blockTokens, 0, 0, 1, 0);
    }

    /** Blocks of a sequence of {@code tokens} tokens. */
    public int blocks(int tokens) {
        return (tokens + blockTokens - 1) / blockTokens;
    }

    /**
     * Whether key block {@code n} is kept for query block {@code m} of a sequence of {@code
     * totalBlocks} blocks, given the row's block scores: {@code score} of block {@code n} and the
     * row's {@code maxScore}, both log-sum-exp values.
     */
    public boolean keeps(int m, int n, int totalBlocks, float score, float maxScore) {
        if (n > m) {
            return false;
        }
        if (n < sinkBlocks || m - n < windowBlocks || m >= totalBlocks - denseLastBlocks) {
            return true;
        }
        return alpha == 0 || Math.exp((double) score - maxScore) >= alpha;
    }
}
