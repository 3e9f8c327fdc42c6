package dev.pflash.runtime.backend.cuda;

import static dev.pflash.runtime.backend.cuda.CudaBackend.ceilDiv;
import static dev.pflash.runtime.backend.cuda.CudaBackend.grid;
import static dev.pflash.runtime.backend.cuda.CudaBackend.requireSize;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.BlockSparsity;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cuda.CudaScratch.Region;
import java.util.Arrays;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * The PFlash ops on the CUDA backend (kernels of pflash.cu), on the backend's buffers and
 * stream. Block scores and the sparse forward run on the device; the block mask, which
 * {@link PflashOps} keeps on the host, comes back as one bit per block pair and goes down again
 * as compressed lists. The sparse forward runs on tensor cores (f16 inputs, f32 softmax and
 * accumulation) for head dims 64 and 128 and blocks of a multiple of 64 tokens, in f32 otherwise.
 * These ops hold nothing of their own: device code and scratch belong to the backend, and
 * {@link #close} leaves it open.
 */
public final class CudaPflashOps implements PflashOps {
    private static final int BLOCK = 256;
    private static final int SCORE_MAX_BLOCK_TOKENS = 256;
    private static final int MAX_HEAD_DIM = 256;

    private final CudaBackend backend;

    CudaPflashOps(CudaBackend backend) {
        this.backend = backend;
    }

    @Override
    public void blockMeanKeys(DeviceBuffer keys, int tokens, int firstBlock, int blocks, int blockTokens, int kvDim,
            DeviceBuffer means) {
        synchronized (backend) {
            CudaBuffer k = backend.anyType(keys);
            CudaBuffer m = backend.cuda(means);
            if (firstBlock < 0 || blocks < 0
                    || (blocks > 0 && (firstBlock + blocks - 1) * (long) blockTokens >= tokens)) {
                throw new IllegalArgumentException("mean keys: blocks " + firstBlock + ".." + (firstBlock + blocks - 1)
                        + " of " + blockTokens + " tokens are not all inside " + tokens + " keys");
            }
            requireSize("mean keys input", k, (long) tokens * kvDim);
            requireSize("mean keys output", m, (long) (firstBlock + blocks) * kvDim);
            backend.current();
            kernel("block_mean_keys").launch(backend.stream(), blocks, 1, CudaBackend.ROW_THREADS, k.pointer(),
                    k.halfFlag(), tokens, firstBlock, blockTokens, kvDim, m.pointer());
        }
    }

    @Override
    public void blockScores(DeviceBuffer q, int tokens, int firstIndex, DeviceBuffer means, int keyBlocks,
            AttentionShape shape, int blockTokens, DeviceBuffer scores) {
        synchronized (backend) {
            CudaBuffer qb = backend.cuda(q);
            CudaBuffer mb = backend.cuda(means);
            CudaBuffer sb = backend.cuda(scores);
            requireBlockStart("block scores", firstIndex, blockTokens);
            int firstBlock = firstIndex / blockTokens;
            int queryBlocks = ceilDiv(tokens, blockTokens);
            if (keyBlocks < firstBlock + queryBlocks) {
                throw new IllegalArgumentException("block scores: stride of " + keyBlocks
                        + " key blocks, query blocks reach " + (firstBlock + queryBlocks));
            }
            if (blockTokens > SCORE_MAX_BLOCK_TOKENS || shape.headDim() > MAX_HEAD_DIM) {
                throw new IllegalArgumentException("block scores on CUDA take blocks of at most "
                        + SCORE_MAX_BLOCK_TOKENS + " tokens and heads of at most " + MAX_HEAD_DIM + " dims, got "
                        + blockTokens + " and " + shape.headDim());
            }
            requireSize("block scores queries", qb, (long) tokens * shape.queryDim());
            requireSize("block scores mean keys", mb, (long) (firstBlock + queryBlocks) * shape.kvDim());
            requireSize("block scores output", sb, (long) shape.heads() * queryBlocks * keyBlocks);
            if (tokens == 0) {
                return;
            }
            backend.current();
            int d = shape.headDim();
            String name = d == 64 ? "block_scores_d64" : d == 128 ? "block_scores_d128" : "block_scores_any";
            kernel(name).launch(backend.stream(), queryBlocks, shape.heads(), BLOCK, qb.pointer(), tokens, firstIndex,
                    mb.pointer(), keyBlocks, shape.heads(), shape.kvHeads(), d, shape.scale(), blockTokens,
                    sb.pointer());
        }
    }

    @Override
    public BlockMask selectBlocks(DeviceBuffer scores, int firstQueryBlock, int queryBlocks, int keyBlocks, int heads,
            int totalBlocks, BlockSparsity sparsity) {
        synchronized (backend) {
            CudaBuffer sb = backend.cuda(scores);
            requireSize("block selection scores", sb, (long) heads * queryBlocks * keyBlocks);
            if (firstQueryBlock + queryBlocks > keyBlocks || firstQueryBlock + queryBlocks > totalBlocks) {
                throw new IllegalArgumentException("block selection: query blocks " + firstQueryBlock + ".."
                        + (firstQueryBlock + queryBlocks - 1) + " beyond " + keyBlocks + " key blocks or "
                        + totalBlocks + " sequence blocks");
            }
            int wordsPerRow = ceilDiv(keyBlocks, 32);
            int[] words = new int[Math.multiplyExact(heads * queryBlocks, wordsPerRow)];
            if (words.length > 0) {
                backend.current();
                CUdeviceptr bits = backend.scratch().get(Region.MASK_BITS, (long) words.length * Integer.BYTES);
                kernel("select_blocks").launch(backend.stream(), queryBlocks, heads, CudaBackend.ROW_THREADS, sb.pointer(),
                        queryBlocks, keyBlocks, firstQueryBlock, totalBlocks, sparsity.alpha(), sparsity.sinkBlocks(),
                        sparsity.windowBlocks(), sparsity.denseLastBlocks(), bits, wordsPerRow);
                backend.context().synchronize();
                CudaCalls.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(words), bits, (long) words.length * Integer.BYTES),
                        "cuMemcpyDtoH(block mask)");
            }
            int[][] lists = new int[heads * queryBlocks][];
            int[] picked = new int[keyBlocks];
            for (int row = 0; row < lists.length; row++) {
                int count = 0;
                for (int w = 0; w < wordsPerRow; w++) {
                    int bitsOfWord = words[row * wordsPerRow + w];
                    while (bitsOfWord != 0) {
                        picked[count++] = 32 * w + Integer.numberOfTrailingZeros(bitsOfWord);
                        bitsOfWord &= bitsOfWord - 1;
                    }
                }
                lists[row] = Arrays.copyOf(picked, count);
            }
            return new BlockMask(sparsity.blockTokens(), heads, firstQueryBlock, queryBlocks, lists);
        }
    }

    @Override
    public void sparseAttention(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex,
            AttentionShape shape, BlockMask mask, DeviceBuffer out) {
        synchronized (backend) {
            CudaBuffer qb = backend.cuda(q);
            CudaBuffer kb = backend.anyType(keys);
            CudaBuffer vb = backend.anyType(values);
            CudaBuffer ob = backend.cuda(out);
            CudaBackend.requireSameType("sparse attention", kb, vb);
            int blockTokens = mask.blockTokens();
            requireBlockStart("sparse attention", firstIndex, blockTokens);
            int queryBlocks = ceilDiv(tokens, blockTokens);
            if (mask.firstQueryBlock() != firstIndex / blockTokens || mask.queryBlocks() != queryBlocks
                    || mask.heads() != shape.heads()) {
                throw new IllegalArgumentException("sparse attention: a mask of " + mask.heads()
                        + " heads and query blocks " + mask.firstQueryBlock() + "+" + mask.queryBlocks() + " for "
                        + shape.heads() + " heads and " + tokens + " queries from token " + firstIndex);
            }
            if (shape.headDim() > MAX_HEAD_DIM) {
                throw new IllegalArgumentException("sparse attention on CUDA takes heads of at most " + MAX_HEAD_DIM
                        + " dims, got " + shape.headDim());
            }
            long keysNeeded = (long) (firstIndex + tokens) * shape.kvDim();
            requireSize("sparse attention queries", qb, (long) tokens * shape.queryDim());
            requireSize("sparse attention keys", kb, keysNeeded);
            requireSize("sparse attention values", vb, keysNeeded);
            requireSize("sparse attention output", ob, (long) tokens * shape.queryDim());
            if (tokens == 0) {
                return;
            }
            backend.current();
            int rows = shape.heads() * queryBlocks;
            int[] offsets = new int[rows + 1];
            for (int h = 0; h < shape.heads(); h++) {
                for (int b = 0; b < queryBlocks; b++) {
                    int row = h * queryBlocks + b;
                    offsets[row + 1] = offsets[row] + mask.keyBlocks(h, mask.firstQueryBlock() + b).length;
                }
            }
            int[] list = new int[offsets[rows]];
            for (int h = 0; h < shape.heads(); h++) {
                for (int b = 0; b < queryBlocks; b++) {
                    int[] blocks = mask.keyBlocks(h, mask.firstQueryBlock() + b);
                    System.arraycopy(blocks, 0, list, offsets[h * queryBlocks + b], blocks.length);
                }
            }
            CUdeviceptr offsetsOnDevice = backend.uploadInts(Region.MASK_OFFSETS, offsets);
            CUdeviceptr listOnDevice = backend.uploadInts(Region.MASK_LIST, list);
            int d = shape.headDim();
            String flash = "sparse_flash_attention_d" + d;
            if ((d == 64 || d == 128) && blockTokens % FlashAttentionLayout.QUERIES_PER_BLOCK == 0
                    && backend.kernels().has(flash)) {
                kernel(flash).launch(backend.stream(), ceilDiv(tokens, FlashAttentionLayout.QUERIES_PER_BLOCK),
                        shape.heads(), FlashAttentionLayout.WARPS * 32, qb.pointer(), kb.pointer(), vb.pointer(),
                        kb.halfFlag(), tokens, firstIndex, shape.heads(), shape.kvHeads(), shape.scale(), ob.pointer(),
                        offsetsOnDevice, listOnDevice, blockTokens, mask.firstQueryBlock(), queryBlocks);
            } else {
                kernel("sparse_attention_rows").launch(backend.stream(), tokens * shape.heads(), 1, CudaBackend.ROW_THREADS,
                        qb.pointer(),
                        kb.pointer(), vb.pointer(), kb.halfFlag(), tokens, firstIndex, shape.heads(), shape.kvHeads(), d,
                        shape.scale(), ob.pointer(), offsetsOnDevice, listOnDevice, blockTokens,
                        mask.firstQueryBlock(), queryBlocks);
            }
        }
    }

    @Override
    public void tailLogits(DeviceBuffer tailQ, int tailTokens, DeviceBuffer keys, int keyRows, int firstKey,
            AttentionShape shape, int totalKeys, DeviceBuffer logits) {
        synchronized (backend) {
            CudaBuffer qb = backend.cuda(tailQ);
            CudaBuffer kb = backend.anyType(keys);
            CudaBuffer lb = backend.cuda(logits);
            if (firstKey < 0 || firstKey + keyRows > totalKeys) {
                throw new IllegalArgumentException("tail logits: keys " + firstKey + ".." + (firstKey + keyRows - 1)
                        + " outside " + totalKeys + " keys");
            }
            requireSize("tail queries", qb, (long) tailTokens * shape.queryDim());
            requireSize("tail logits keys", kb, (long) keyRows * shape.kvDim());
            requireSize("tail logits", lb, (long) tailTokens * shape.heads() * totalKeys);
            if (keyRows == 0 || tailTokens == 0) {
                return;
            }
            backend.current();
            kernel("tail_logits").launch(backend.stream(), ceilDiv(keyRows, 8), 1, BLOCK, qb.pointer(), tailTokens,
                    kb.pointer(), kb.halfFlag(), keyRows, firstKey, shape.heads(), shape.kvHeads(), shape.headDim(),
                    shape.scale(), totalKeys, lb.pointer());
        }
    }

    @Override
    public void tailProbabilityMax(DeviceBuffer logits, int tailTokens, int heads, int totalKeys,
            DeviceBuffer maxProbs) {
        synchronized (backend) {
            CudaBuffer lb = backend.cuda(logits);
            CudaBuffer pb = backend.cuda(maxProbs);
            if (tailTokens > totalKeys) {
                throw new IllegalArgumentException(tailTokens + " tail queries for " + totalKeys + " keys");
            }
            requireSize("tail logits", lb, (long) tailTokens * heads * totalKeys);
            requireSize("tail probability maxima", pb, (long) tailTokens * totalKeys);
            if (tailTokens == 0) {
                return;
            }
            backend.current();
            CUdeviceptr stats = backend.scratch().get(Region.TAIL_STATS, 2L * tailTokens * heads * Float.BYTES);
            kernel("tail_softmax_stats").launch(backend.stream(), tailTokens * heads, 1, BLOCK, lb.pointer(),
                    tailTokens, heads, totalKeys, stats);
            kernel("tail_probability_max").launch(backend.stream(), grid((long) tailTokens * totalKeys), 1, BLOCK,
                    lb.pointer(), stats, tailTokens, heads, totalKeys, pb.pointer());
        }
    }

    @Override
    public void averagePool(DeviceBuffer x, int n, int kernel, DeviceBuffer out) {
        synchronized (backend) {
            CudaBuffer xb = backend.cuda(x);
            CudaBuffer ob = backend.cuda(out);
            if (kernel < 1 || kernel % 2 == 0) {
                throw new IllegalArgumentException("average pool kernel must be odd and positive, got " + kernel);
            }
            requireSize("average pool input", xb, n);
            requireSize("average pool output", ob, n);
            if (n == 0) {
                return;
            }
            backend.current();
            kernel("average_pool").launch(backend.stream(), grid(n), 1, BLOCK, xb.pointer(), n, kernel, ob.pointer());
        }
    }

    @Override
    public void chunkMeans(DeviceBuffer x, int n, int chunkTokens, DeviceBuffer out) {
        synchronized (backend) {
            CudaBuffer xb = backend.cuda(x);
            CudaBuffer ob = backend.cuda(out);
            if (chunkTokens < 1) {
                throw new IllegalArgumentException("chunks must hold at least 1 token, got " + chunkTokens);
            }
            int chunks = ceilDiv(n, chunkTokens);
            requireSize("chunk means input", xb, n);
            requireSize("chunk means output", ob, chunks);
            if (chunks == 0) {
                return;
            }
            backend.current();
            kernel("chunk_means").launch(backend.stream(), grid(chunks), 1, BLOCK, xb.pointer(), n, chunkTokens,
                    ob.pointer());
        }
    }

    /** Nothing to release: the kernels and scratch belong to the backend, which stays open. */
    @Override
    public void close() {
    }

    private CudaFunction kernel(String name) {
        return backend.kernels().get(name);
    }

    private static void requireBlockStart(String op, int firstIndex, int blockTokens) {
        if (firstIndex < 0 || firstIndex % blockTokens != 0) {
            throw new IllegalArgumentException(op + ": first query " + firstIndex
                    + " must be a multiple of the block of " + blockTokens + " tokens");
        }
    }
}
