package dev.pflash.runtime.backend;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.backend.cpu.CpuPflashOps;
import dev.pflash.runtime.backend.cuda.CudaBackend;

/**
 * The ops of PFlash speculative prefill (PFLASH.md), beside the forward-pass ops of {@link Backend}
 * and defined the same way: each has one reference CPU implementation and every backend implements
 * the same list on its own buffers. FlashPrefill block-sparse attention is four ops (mean keys,
 * block scores, block selection, sparse forward); tail-attention scoring is two (logits of the tail
 * queries against a run of keys, then softmax probabilities folded into a running maximum); score
 * smoothing and chunk scores are two more. Keys and values are token-major rows of {@code
 * shape.kvDim()} floats, queries rows of {@code shape.queryDim()}, as in {@link Backend#attention}.
 */
public interface PflashOps extends AutoCloseable {

    /**
     * The PFlash ops of {@code backend}, sharing its buffers.
     *
     * @throws IllegalArgumentException for a backend without PFlash ops
     */
    static PflashOps forBackend(Backend backend) {
        if (backend instanceof CpuBackend cpu) {
            return new CpuPflashOps(cpu);
        }
        if (backend instanceof CudaBackend cuda) {
            return cuda.pflash();
        }
        throw new IllegalArgumentException("backend " + backend.name() + " has no PFlash ops; use --backend=cpu");
    }

    /**
     * Mean of each key block: row {@code n} of {@code means} ({@code kvDim} floats) becomes the mean
     * of key rows {@code [n * blockTokens, min((n + 1) * blockTokens, tokens))}, for blocks {@code
     * firstBlock .. firstBlock + blocks - 1}; other rows are left alone.
     */
    void blockMeanKeys(DeviceBuffer keys, int tokens, int firstBlock, int blocks, int blockTokens, int kvDim,
            DeviceBuffer means);

    /**
     * FlashPrefill block scores of a run of query blocks. {@code q} holds {@code tokens} query rows
     * for the tokens at {@code firstIndex ..} ({@code firstIndex} a multiple of {@code blockTokens});
     * for query head {@code h}, query block {@code m} ({@code b = m - firstIndex / blockTokens}) and key
     * block {@code n <= m}, {@code scores[(h * queryBlocks + b) * keyBlocks + n]} becomes
     * {@code log sum_i exp(shape.scale() * q_i . means[n])} over the query rows {@code i} of the block,
     * with the block's kv head; entries {@code n > m} become negative infinity.
     *
     * @param keyBlocks row stride of {@code scores}: at least the last query block + 1
     */
    void blockScores(DeviceBuffer q, int tokens, int firstIndex, DeviceBuffer means, int keyBlocks,
            AttentionShape shape, int blockTokens, DeviceBuffer scores);

    /**
     * Applies {@code sparsity} to block scores laid out as {@link #blockScores} writes them.
     *
     * @param totalBlocks blocks of the whole sequence, for the dense last rows
     */
    BlockMask selectBlocks(DeviceBuffer scores, int firstQueryBlock, int queryBlocks, int keyBlocks, int heads,
            int totalBlocks, BlockSparsity sparsity);

    /**
     * Causal attention over the selected blocks only, with an online softmax: as {@link
     * Backend#attention} with {@code firstIndex} a multiple of the mask's block size, except that
     * query {@code t} (token {@code firstIndex + t}) of head {@code h} reads the keys of the blocks
     * {@code mask} selects for its block and head, and of those only rows {@code <= firstIndex + t}.
     */
    void sparseAttention(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex,
            AttentionShape shape, BlockMask mask, DeviceBuffer out);

    /**
     * Logits of the tail queries against a run of keys: for tail query {@code t < tailTokens} and query
     * head {@code h}, {@code logits[(t * heads + h) * totalKeys + firstKey + r] = shape.scale() *
     * tailQ[t, h] . keys[r, kv(h)]} for the {@code keyRows} rows {@code r} of {@code keys}.
     */
    void tailLogits(DeviceBuffer tailQ, int tailTokens, DeviceBuffer keys, int keyRows, int firstKey,
            AttentionShape shape, int totalKeys, DeviceBuffer logits);

    /**
     * Softmax of each (tail query, head) row of {@link #tailLogits} over its causal keys (tail query
     * {@code t} is token {@code totalKeys - tailTokens + t} and sees keys {@code 0 ..} that token), and
     * {@code maxProbs[t * totalKeys + j] = max(maxProbs[t * totalKeys + j], p)} over the heads.
     */
    void tailProbabilityMax(DeviceBuffer logits, int tailTokens, int heads, int totalKeys, DeviceBuffer maxProbs);

    /**
     * Average pool of width {@code kernel} (odd): {@code out[i]} is the mean of {@code x[j]} for
     * {@code |j - i| <= kernel / 2} and {@code 0 <= j < n}, divided by the number of such {@code j}.
     */
    void averagePool(DeviceBuffer x, int n, int kernel, DeviceBuffer out);

    /** {@code out[c]} = mean of {@code x[c * chunkTokens .. min((c + 1) * chunkTokens, n))}, for each chunk. */
    void chunkMeans(DeviceBuffer x, int n, int chunkTokens, DeviceBuffer out);

    /** Releases what these ops hold (threads, device code); the backend stays open. */
    @Override
    void close();
}
