package dev.pflash.runtime.pflash;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.BlockSparsity;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.pflash.MemoryLedger.Allocation;
import dev.pflash.runtime.pflash.MemoryLedger.Kind;

/**
 * FlashPrefill attention of one layer over a sequence whose keys and values arrive chunk by chunk
 * (PFLASH.md step 6): for each chunk of queries, the mean key of each new key block, the block
 * scores of the chunk's query blocks against every earlier block, the selection, and the sparse
 * forward over the selected blocks. Counts the block pairs it reads against the causal total, so
 * that a run can say how sparse it was.
 */
final class BlockSparseAttention implements AutoCloseable {
    private final PflashOps ops;
    private final AttentionShape shape;
    private final BlockSparsity sparsity;
    private final int totalTokens;
    private final int totalBlocks;
    private final Allocation means;
    private final Allocation scores;
    private long selectedPairs;
    private long causalPairs;

    /**
     * @param maxChunkTokens the longest chunk {@link #attend} will get, a multiple of the block size
     */
    BlockSparseAttention(Backend backend, PflashOps ops, MemoryLedger ledger, AttentionShape shape,
            BlockSparsity sparsity, int totalTokens, int maxChunkTokens) {
        this.ops = ops;
        this.shape = shape;
        this.sparsity = sparsity;
        this.totalTokens = totalTokens;
        this.totalBlocks = sparsity.blocks(totalTokens);
        int chunkBlocks = maxChunkTokens / sparsity.blockTokens();
        this.means = ledger.allocate(backend, Kind.SCORING, Math.multiplyExact(totalBlocks, shape.kvDim()));
        this.scores = ledger.allocate(backend, Kind.SCORING,
                Math.multiplyExact(shape.heads() * chunkBlocks, totalBlocks));
    }

    /**
     * Attention of the {@code tokens} queries {@code q} of tokens {@code firstIndex ..} (a multiple of
     * the block size) over {@code keys} and {@code values}, which hold every row up to the chunk's
     * end; the result goes to {@code out}.
     */
    void attend(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex, DeviceBuffer out) {
        int blockTokens = sparsity.blockTokens();
        int end = firstIndex + tokens;
        if (end > totalTokens) {
            throw new IllegalArgumentException("chunk ends at token " + end + " of a sequence of " + totalTokens);
        }
        int firstBlock = firstIndex / blockTokens;
        int keyBlocks = sparsity.blocks(end);
        int queryBlocks = keyBlocks - firstBlock;
        ops.blockMeanKeys(keys, end, firstBlock, queryBlocks, blockTokens, shape.kvDim(), means.buffer());
        ops.blockScores(q, tokens, firstIndex, means.buffer(), keyBlocks, shape, blockTokens, scores.buffer());
        BlockMask mask = ops.selectBlocks(scores.buffer(), firstBlock, queryBlocks, keyBlocks, shape.heads(),
                totalBlocks, sparsity);
        ops.sparseAttention(q, keys, values, tokens, firstIndex, shape, mask, out);
        selectedPairs += mask.selectedPairs();
        causalPairs += mask.causalPairs();
    }

    /** (head, query block, key block) triples read so far. */
    long selectedPairs() {
        return selectedPairs;
    }

    /** (head, query block, key block) triples dense attention would have read. */
    long causalPairs() {
        return causalPairs;
    }

    @Override
    public void close() {
        means.close();
        scores.close();
    }
}
