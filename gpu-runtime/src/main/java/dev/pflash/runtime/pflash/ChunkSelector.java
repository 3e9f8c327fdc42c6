package dev.pflash.runtime.pflash;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Which chunks of the body the target reads (PFLASH.md step 4). The body is cut into chunks of
 * {@code chunkTokens} tokens (the last may be shorter); {@link #keepCount} chunks are chosen by
 * score, best first (ties to the earlier chunk); the forced chunks (the first {@code headChunks},
 * the last {@code tailChunks}, and any others the caller forces, such as lexical anchors) are kept
 * in addition. The result is in body order.
 */
public final class ChunkSelector {
    /** Slack for the floor of the keep formula, so that 100 × 0.29 keeps 29 chunks, not 28. */
    private static final double FLOOR_SLACK = 1e-9;

    private final int chunkTokens;
    private final int headChunks;
    private final int tailChunks;

    public ChunkSelector(int chunkTokens, int headChunks, int tailChunks) {
        if (chunkTokens < 1 || headChunks < 0 || tailChunks < 0) {
            throw new IllegalArgumentException("chunks of " + chunkTokens + " tokens, " + headChunks + " head and "
                    + tailChunks + " tail chunks forced: sizes must be positive and counts >= 0");
        }
        this.chunkTokens = chunkTokens;
        this.headChunks = headChunks;
        this.tailChunks = tailChunks;
    }

    /** {@code ceil(bodyTokens / chunkTokens)}. */
    public static int chunkCount(int bodyTokens, int chunkTokens) {
        return (bodyTokens + chunkTokens - 1) / chunkTokens;
    }

    /**
     * The reference's keep formula, {@code n_keep = max(1, floor(ceil(S / chunk) × keepRatio))}, for a
     * body of {@code S} tokens (at most the number of chunks; 0 for an empty body).
     */
    public static int keepCount(int bodyTokens, int chunkTokens, double keepRatio) {
        int chunks = chunkCount(bodyTokens, chunkTokens);
        if (chunks == 0) {
            return 0;
        }
        return Math.min(chunks, Math.max(1, (int) Math.floor(chunks * keepRatio + FLOOR_SLACK)));
    }

    public int chunkTokens() {
        return chunkTokens;
    }

    /** The head and tail chunks this selector forces in a body of {@code chunks} chunks. */
    public BitSet forcedChunks(int chunks) {
        BitSet forced = new BitSet(chunks);
        forced.set(0, Math.min(headChunks, chunks));
        forced.set(Math.max(0, chunks - tailChunks), chunks);
        return forced;
    }

    /**
     * The kept chunks, ascending: the forced ones (head, tail and {@code extraForced}) and the
     * {@code keep} best-scoring others.
     *
     * @param chunkScores one score per chunk
     */
    public int[] select(float[] chunkScores, int keep, BitSet extraForced) {
        int chunks = chunkScores.length;
        BitSet kept = forcedChunks(chunks);
        kept.or(extraForced.get(0, chunks));
        Integer[] order = new Integer[chunks];
        for (int c = 0; c < chunks; c++) {
            order[c] = c;
        }
        Arrays.sort(order, (a, b) -> {
            int byScore = Float.compare(chunkScores[b], chunkScores[a]);
            return byScore != 0 ? byScore : Integer.compare(a, b);
        });
        BitSet forced = (BitSet) kept.clone();
        int chosen = 0;
        for (int i = 0; i < chunks && chosen < keep; i++) {
            if (!forced.get(order[i])) {
                kept.set(order[i]);
                chosen++;
            }
        }
        return kept.stream().toArray();
    }

    /** Body token indices of {@code chunks} (ascending chunk indices) in a body of {@code bodyTokens} tokens. */
    public int[] tokens(int[] chunks, int bodyTokens) {
        int n = 0;
        for (int c : chunks) {
            n += Math.min(bodyTokens, (c + 1) * chunkTokens) - c * chunkTokens;
        }
        int[] out = new int[n];
        int i = 0;
        for (int c : chunks) {
            for (int t = c * chunkTokens; t < Math.min(bodyTokens, (c + 1) * chunkTokens); t++) {
                out[i++] = t;
            }
        }
        return out;
    }
}
