package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.BlockSparsity;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cpu.CpuPflashScratch.Slot;
import java.util.Arrays;

/**
 * The reference implementation of the PFlash ops: pure Java on the CPU backend's heap buffers,
 * multi-threaded over heads and blocks (the sparse forward and block scores), key rows (tail
 * logits) or tail queries (probabilities) on a pool of the backend's thread count.
 */
public final class CpuPflashOps implements PflashOps {
    private final CpuThreadPool pool;
    private final ThreadLocal<CpuPflashScratch> scratch = ThreadLocal.withInitial(CpuPflashScratch::new);
    private final ThreadLocal<AttentionScratch> attentionScratch = ThreadLocal.withInitial(AttentionScratch::new);
    private final AttentionKernel attentionKernel;

    public CpuPflashOps(CpuBackend backend) {
        this.pool = new CpuThreadPool(backend.threads());
        this.attentionKernel = backend.attentionKernel();
    }

    @Override
    public void blockMeanKeys(DeviceBuffer keys, int tokens, int firstBlock, int blocks, int blockTokens, int kvDim,
            DeviceBuffer means) {
        CpuBuffer k = cpu(keys);
        CpuBuffer m = cpu(means);
        if (firstBlock < 0 || blocks < 0 || (blocks > 0 && (firstBlock + blocks - 1) * (long) blockTokens >= tokens)) {
            throw new IllegalArgumentException("mean keys: blocks " + firstBlock + ".." + (firstBlock + blocks - 1)
                    + " of " + blockTokens + " tokens are not all inside " + tokens + " keys");
        }
        requireSize("mean keys input", k, (long) tokens * kvDim);
        requireSize("mean keys output", m, (long) (firstBlock + blocks) * kvDim);
        pool.forRange(blocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                int n = firstBlock + b;
                int first = n * blockTokens;
                int last = Math.min(first + blockTokens, tokens);
                int mo = m.offset + n * kvDim;
                Arrays.fill(m.data, mo, mo + kvDim, 0f);
                for (int j = first; j < last; j++) {
                    int ko = k.offset + j * kvDim;
                    for (int d = 0; d < kvDim; d++) {
                        m.data[mo + d] += k.data[ko + d];
                    }
                }
                float inv = 1f / (last - first);
                for (int d = 0; d < kvDim; d++) {
                    m.data[mo + d] *= inv;
                }
            }
        });
    }

    @Override
    public void blockScores(DeviceBuffer q, int tokens, int firstIndex, DeviceBuffer means, int keyBlocks,
            AttentionShape shape, int blockTokens, DeviceBuffer scores) {
        CpuBuffer qb = cpu(q);
        CpuBuffer mb = cpu(means);
        CpuBuffer sb = cpu(scores);
        requireBlockStart("block scores", firstIndex, blockTokens);
        int firstBlock = firstIndex / blockTokens;
        int queryBlocks = (tokens + blockTokens - 1) / blockTokens;
        if (keyBlocks < firstBlock + queryBlocks) {
            throw new IllegalArgumentException("block scores: stride of " + keyBlocks
                    + " key blocks, query blocks reach " + (firstBlock + queryBlocks));
        }
        requireSize("block scores queries", qb, (long) tokens * shape.queryDim());
        requireSize("block scores mean keys", mb, (long) (firstBlock + queryBlocks) * shape.kvDim());
        requireSize("block scores output", sb, (long) shape.heads() * queryBlocks * keyBlocks);
        int dim = shape.headDim();
        pool.forRange(shape.heads() * queryBlocks, 1, (from, to) -> {
            CpuPflashScratch s = scratch.get();
            for (int task = from; task < to; task++) {
                int b = queryBlocks - 1 - task / shape.heads();
                int h = task % shape.heads();
                int m = firstBlock + b;
                int firstRow = b * blockTokens;
                int nq = Math.min(blockTokens, tokens - firstRow);
                int kvHead = (h / shape.groupSize()) * dim;
                float[][] qt = s.matrix(Slot.QUERY_T, dim, nq);
                float[] acc = s.vector(Slot.ROW_SCORES, nq);
                for (int t = 0; t < nq; t++) {
                    int qo = qb.offset + (firstRow + t) * shape.queryDim() + h * dim;
                    for (int d = 0; d < dim; d++) {
                        qt[d][t] = qb.data[qo + d] * shape.scale();
                    }
                }
                int row = sb.offset + (h * queryBlocks + b) * keyBlocks;
                for (int n = 0; n <= m; n++) {
                    int mo = mb.offset + n * shape.kvDim() + kvHead;
                    Arrays.fill(acc, 0, nq, 0f);
                    int d = 0;
                    for (; d + 4 <= dim; d += 4) {
                        FloatKernels.axpy4(acc, qt[d], qt[d + 1], qt[d + 2], qt[d + 3], mb.data[mo + d],
                                mb.data[mo + d + 1], mb.data[mo + d + 2], mb.data[mo + d + 3], 0, nq);
                    }
                    for (; d < dim; d++) {
                        FloatKernels.axpy1(acc, qt[d], mb.data[mo + d], 0, nq);
                    }
                    sb.data[row + n] = logSumExp(acc, nq);
                }
                Arrays.fill(sb.data, row + m + 1, row + keyBlocks, Float.NEGATIVE_INFINITY);
            }
        });
    }

    private static float logSumExp(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[i] - max);
        }
        return (float) (max + Math.log(sum));
    }

    @Override
    public BlockMask selectBlocks(DeviceBuffer scores, int firstQueryBlock, int queryBlocks, int keyBlocks, int heads,
            int totalBlocks, BlockSparsity sparsity) {
        CpuBuffer sb = cpu(scores);
        requireSize("block selection scores", sb, (long) heads * queryBlocks * keyBlocks);
        if (firstQueryBlock + queryBlocks > keyBlocks || firstQueryBlock + queryBlocks > totalBlocks) {
            throw new IllegalArgumentException("block selection: query blocks " + firstQueryBlock + ".."
                    + (firstQueryBlock + queryBlocks - 1) + " beyond " + keyBlocks + " key blocks or " + totalBlocks
                    + " sequence blocks");
        }
        int[][] lists = new int[heads * queryBlocks][];
        int[] picked = new int[keyBlocks];
        for (int h = 0; h < heads; h++) {
            for (int b = 0; b < queryBlocks; b++) {
                int m = firstQueryBlock + b;
                int row = sb.offset + (h * queryBlocks + b) * keyBlocks;
                float max = Float.NEGATIVE_INFINITY;
                for (int n = 0; n <= m; n++) {
                    max = Math.max(max, sb.data[row + n]);
                }
                int count = 0;
                for (int n = 0; n <= m; n++) {
                    if (sparsity.keeps(m, n, totalBlocks, sb.data[row + n], max)) {
                        picked[count++] = n;
                    }
                }
                lists[h * queryBlocks + b] = Arrays.copyOf(picked, count);
            }
        }
        return new BlockMask(sparsity.blockTokens(), heads, firstQueryBlock, queryBlocks, lists);
    }

    @Override
    public void sparseAttention(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex,
            AttentionShape shape, BlockMask mask, DeviceBuffer out) {
        CpuBuffer qb = cpu(q);
        CpuBuffer ob = cpu(out);
        requireBlockStart("sparse attention", firstIndex, mask.blockTokens());
        int queryBlocks = (tokens + mask.blockTokens() - 1) / mask.blockTokens();
        if (mask.firstQueryBlock() != firstIndex / mask.blockTokens() || mask.queryBlocks() != queryBlocks
                || mask.heads() != shape.heads()) {
            throw new IllegalArgumentException("sparse attention: a mask of " + mask.heads()
                    + " heads and query blocks " + mask.firstQueryBlock() + "+" + mask.queryBlocks() + " for "
                    + shape.heads() + " heads and " + tokens + " queries from token " + firstIndex);
        }
        long keysNeeded = (long) (firstIndex + tokens) * shape.kvDim();
        requireSize("sparse attention queries", qb, (long) tokens * shape.queryDim());
        CpuBackend.requireElements("sparse attention keys", keys, keysNeeded);
        CpuBackend.requireElements("sparse attention values", values, keysNeeded);
        requireSize("sparse attention output", ob, (long) tokens * shape.queryDim());
        CpuBlockSparseAttention.run(pool, attentionScratch, attentionKernel, qb.data, qb.offset,
                KvRows.of(keys, shape), KvRows.of(values, shape), tokens, firstIndex, shape, mask,
                ob.data, ob.offset);
    }

    @Override
    public void tailLogits(DeviceBuffer tailQ, int tailTokens, DeviceBuffer keys, int keyRows, int firstKey,
            AttentionShape shape, int totalKeys, DeviceBuffer logits) {
        CpuBuffer qb = cpu(tailQ);
        CpuBuffer kb = cpu(keys);
        CpuBuffer lb = cpu(logits);
        if (firstKey < 0 || firstKey + keyRows > totalKeys) {
            throw new IllegalArgumentException("tail logits: keys " + firstKey + ".." + (firstKey + keyRows - 1)
                    + " outside " + totalKeys + " keys");
        }
        requireSize("tail queries", qb, (long) tailTokens * shape.queryDim());
        requireSize("tail logits keys", kb, (long) keyRows * shape.kvDim());
        requireSize("tail logits", lb, (long) tailTokens * shape.heads() * totalKeys);
        int dim = shape.headDim();
        int heads = shape.heads();
        float scale = shape.scale();
        pool.forRange(keyRows, pool.grain(keyRows, 64), (from, to) -> {
            for (int r = from; r < to; r++) {
                int ko = kb.offset + r * shape.kvDim();
                for (int t = 0; t < tailTokens; t++) {
                    for (int h = 0; h < heads; h++) {
                        float dot = FloatKernels.dot(qb.data, qb.offset + t * shape.queryDim() + h * dim, kb.data,
                                ko + (h / shape.groupSize()) * dim, dim);
                        lb.data[lb.offset + (t * heads + h) * totalKeys + firstKey + r] = scale * dot;
                    }
                }
            }
        });
    }

    @Override
    public void tailProbabilityMax(DeviceBuffer logits, int tailTokens, int heads, int totalKeys,
            DeviceBuffer maxProbs) {
        CpuBuffer lb = cpu(logits);
        CpuBuffer pb = cpu(maxProbs);
        if (tailTokens > totalKeys) {
            throw new IllegalArgumentException(tailTokens + " tail queries for " + totalKeys + " keys");
        }
        requireSize("tail logits", lb, (long) tailTokens * heads * totalKeys);
        requireSize("tail probability maxima", pb, (long) tailTokens * totalKeys);
        pool.forRange(tailTokens, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int visible = totalKeys - tailTokens + t + 1;
                int po = pb.offset + t * totalKeys;
                for (int h = 0; h < heads; h++) {
                    int lo = lb.offset + (t * heads + h) * totalKeys;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        max = Math.max(max, lb.data[lo + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < visible; j++) {
                        sum += Math.exp(lb.data[lo + j] - max);
                    }
                    float inv = (float) (1 / sum);
                    for (int j = 0; j < visible; j++) {
                        float p = (float) Math.exp(lb.data[lo + j] - max) * inv;
                        if (p > pb.data[po + j]) {
                            pb.data[po + j] = p;
                        }
                    }
                }
            }
        });
    }

    @Override
    public void averagePool(DeviceBuffer x, int n, int kernel, DeviceBuffer out) {
        CpuBuffer xb = cpu(x);
        CpuBuffer ob = cpu(out);
        if (kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException("average pool kernel must be odd and positive, got " + kernel);
        }
        requireSize("average pool input", xb, n);
        requireSize("average pool output", ob, n);
        double[] prefix = new double[n + 1];
        for (int i = 0; i < n; i++) {
            prefix[i + 1] = prefix[i] + xb.data[xb.offset + i];
        }
        int half = kernel / 2;
        for (int i = 0; i < n; i++) {
            int lo = Math.max(0, i - half);
            int hi = Math.min(n, i + half + 1);
            ob.data[ob.offset + i] = (float) ((prefix[hi] - prefix[lo]) / (hi - lo));
        }
    }

    @Override
    public void chunkMeans(DeviceBuffer x, int n, int chunkTokens, DeviceBuffer out) {
        CpuBuffer xb = cpu(x);
        CpuBuffer ob = cpu(out);
        if (chunkTokens < 1) {
            throw new IllegalArgumentException("chunks must hold at least 1 token, got " + chunkTokens);
        }
        int chunks = (n + chunkTokens - 1) / chunkTokens;
        requireSize("chunk means input", xb, n);
        requireSize("chunk means output", ob, chunks);
        for (int c = 0; c < chunks; c++) {
            int lo = c * chunkTokens;
            int hi = Math.min(n, lo + chunkTokens);
            double sum = 0;
            for (int i = lo; i < hi; i++) {
                sum += xb.data[xb.offset + i];
            }
            ob.data[ob.offset + c] = (float) (sum / (hi - lo));
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    private static void requireBlockStart(String op, int firstIndex, int blockTokens) {
        if (firstIndex < 0 || firstIndex % blockTokens != 0) {
            throw new IllegalArgumentException(op + ": first query " + firstIndex
                    + " must be a multiple of the block of " + blockTokens + " tokens");
        }
    }

    private static CpuBuffer cpu(DeviceBuffer b) {
        if (b instanceof CpuBuffer c) {
            return c;
        }
        throw new IllegalArgumentException("buffer " + b + " does not belong to the CPU backend");
    }

    private static void requireSize(String what, CpuBuffer b, long needed) {
        if (b.size() < needed) {
            throw new IllegalArgumentException(what + ": buffer of " + b.size() + " floats, needs " + needed);
        }
    }
}
