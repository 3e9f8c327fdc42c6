package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.cpu.CpuPflashScratch.Slot;
import java.util.Arrays;

/**
 * Block-sparse causal attention (FlashPrefill's sparse forward): one task per (query head, query
 * block), reading only the key blocks the mask selects, with an online softmax (running max and
 * sum; what was accumulated is rescaled when the max grows). Vectorized across the queries of the
 * block as {@link CpuAttention} is: queries transposed to {@code qt[d][t]}, scores {@code
 * st[j][t]}, outputs {@code ot[d][t]}, every inner loop over {@code t}.
 *
 * <p>Inside the diagonal block each key is applied only to the queries at or after it: a later key
 * gets no weight and its value is never read for an earlier query, not even multiplied by zero,
 * so nothing after a query can reach its output.
 */
final class CpuBlockSparseAttention {
    /** Keys per online-softmax step. */
    static final int KEY_STEP = 64;
    /** Keys whose scores are built together from each group of four query rows. */
    private static final int KEY_TILE = 8;
    /** Output dims updated together from each group of four weight rows. */
    private static final int DIM_TILE = 8;

    private CpuBlockSparseAttention() {
    }

    static void run(CpuThreadPool pool, ThreadLocal<CpuPflashScratch> scratch, float[] q, int qOff, float[] k,
            int kOff, float[] v, int vOff, int tokens, int firstIndex, AttentionShape shape, BlockMask mask,
            float[] out, int outOff) {
        int queryBlocks = mask.queryBlocks();
        // Later query blocks read more keys; handing them out first evens the threads' finishing times.
        pool.forRange(shape.heads() * queryBlocks, 1, (from, to) -> {
            CpuPflashScratch s = scratch.get();
            for (int task = from; task < to; task++) {
                int b = queryBlocks - 1 - task / shape.heads();
                int h = task % shape.heads();
                block(s, q, qOff, k, kOff, v, vOff, tokens, firstIndex, shape, mask, h,
                        mask.firstQueryBlock() + b, out, outOff);
            }
        });
    }

    private static void block(CpuPflashScratch s, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
            int tokens, int firstIndex, AttentionShape shape, BlockMask mask, int h, int m, float[] out, int outOff) {
        int blockTokens = mask.blockTokens();
        int dim = shape.headDim();
        int qDim = shape.queryDim();
        int kvDim = shape.kvDim();
        int kvHead = (h / shape.groupSize()) * dim;
        int firstRow = m * blockTokens - firstIndex;
        int nq = Math.min(blockTokens, tokens - firstRow);
        int firstQuery = firstIndex + firstRow;
        float[][] qt = s.matrix(Slot.QUERY_T, dim, nq);
        float[][] ot = s.matrix(Slot.OUTPUT_T, dim, nq);
        float[][] st = s.matrix(Slot.SCORES_T, KEY_STEP, nq);
        float[] max = s.vector(Slot.ROW_MAX, nq);
        float[] newMax = s.vector(Slot.NEW_MAX, nq);
        float[] sum = s.vector(Slot.ROW_SUM, nq);
        int[] visible = s.visibleFrom(KEY_STEP);
        float scale = shape.scale();
        for (int t = 0; t < nq; t++) {
            int qo = qOff + (firstRow + t) * qDim + h * dim;
            for (int d = 0; d < dim; d++) {
                qt[d][t] = q[qo + d] * scale;
            }
        }
        for (int d = 0; d < dim; d++) {
            Arrays.fill(ot[d], 0, nq, 0f);
        }
        Arrays.fill(max, 0, nq, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, nq, 0f);

        for (int n : mask.keyBlocks(h, m)) {
            int keyEnd = Math.min((n + 1) * blockTokens, firstQuery + nq);
            for (int j0 = n * blockTokens; j0 < keyEnd; j0 += KEY_STEP) {
                int count = Math.min(KEY_STEP, keyEnd - j0);
                for (int jj = 0; jj < count; jj++) {
                    visible[jj] = Math.max(0, j0 + jj - firstQuery);
                }
                int lo = visible[0];
                step(qt, ot, st, max, newMax, sum, visible, lo, nq, k, kOff + j0 * kvDim + kvHead, v,
                        vOff + j0 * kvDim + kvHead, kvDim, dim, count);
            }
        }

        for (int t = 0; t < nq; t++) {
            float inv = 1f / sum[t];
            int oo = outOff + (firstRow + t) * qDim + h * dim;
            for (int d = 0; d < dim; d++) {
                out[oo + d] = ot[d][t] * inv;
            }
        }
    }

    /**
     * One online-softmax step over {@code count} consecutive keys starting at {@code kBase}; key
     * {@code jj} is seen by queries {@code visible[jj] .. nq - 1}, and {@code lo = visible[0]}.
     */
    private static void step(float[][] qt, float[][] ot, float[][] st, float[] max, float[] newMax, float[] sum,
            int[] visible, int lo, int nq, float[] k, int kBase, float[] v, int vBase, int kvDim, int dim, int count) {
        for (int jj = 0; jj < count; jj++) {
            Arrays.fill(st[jj], lo, nq, 0f);
        }
        for (int k0 = 0; k0 < count; k0 += KEY_TILE) {
            int k1 = Math.min(count, k0 + KEY_TILE);
            int d = 0;
            for (; d + 4 <= dim; d += 4) {
                float[] q0 = qt[d];
                float[] q1 = qt[d + 1];
                float[] q2 = qt[d + 2];
                float[] q3 = qt[d + 3];
                for (int jj = k0; jj < k1; jj++) {
                    int kb = kBase + jj * kvDim + d;
                    FloatKernels.axpy4(st[jj], q0, q1, q2, q3, k[kb], k[kb + 1], k[kb + 2], k[kb + 3], lo, nq);
                }
            }
            for (; d < dim; d++) {
                for (int jj = k0; jj < k1; jj++) {
                    FloatKernels.axpy1(st[jj], qt[d], k[kBase + jj * kvDim + d], lo, nq);
                }
            }
        }
        for (int jj = 0; jj < count; jj++) {
            if (visible[jj] > lo) {
                Arrays.fill(st[jj], lo, visible[jj], Float.NEGATIVE_INFINITY);
            }
        }

        System.arraycopy(max, lo, newMax, lo, nq - lo);
        for (int jj = 0; jj < count; jj++) {
            float[] sr = st[jj];
            for (int t = lo; t < nq; t++) {
                newMax[t] = Math.max(newMax[t], sr[t]);
            }
        }
        // max[] becomes the rescale factor exp(old - new): 0 for a query that had seen nothing yet.
        for (int t = lo; t < nq; t++) {
            float alpha = (float) Math.exp(max[t] - newMax[t]);
            max[t] = alpha;
            sum[t] *= alpha;
        }
        for (int d = 0; d < dim; d++) {
            FloatKernels.scale(ot[d], max, lo, nq);
        }
        for (int jj = 0; jj < count; jj++) {
            float[] sr = st[jj];
            int from = visible[jj];
            for (int t = from; t < nq; t++) {
                float p = (float) Math.exp(sr[t] - newMax[t]);
                sr[t] = p;
                sum[t] += p;
            }
        }

        // Weighted values: groups of four keys for the queries that see all four, each key alone for
        // the queries that see only some of them (inside the diagonal block).
        int groups = count / 4 * 4;
        for (int d0 = 0; d0 < dim; d0 += DIM_TILE) {
            int d1 = Math.min(dim, d0 + DIM_TILE);
            for (int jj = 0; jj < groups; jj += 4) {
                int v0 = vBase + jj * kvDim;
                int v1 = v0 + kvDim;
                int v2 = v1 + kvDim;
                int v3 = v2 + kvDim;
                int all = visible[jj + 3];
                for (int d = d0; d < d1; d++) {
                    FloatKernels.axpy4(ot[d], st[jj], st[jj + 1], st[jj + 2], st[jj + 3], v[v0 + d], v[v1 + d],
                            v[v2 + d], v[v3 + d], all, nq);
                }
                if (visible[jj] < all) {
                    for (int i = 0; i < 3; i++) {
                        int vi = v0 + i * kvDim;
                        for (int d = d0; d < d1; d++) {
                            FloatKernels.axpy1(ot[d], st[jj + i], v[vi + d], visible[jj + i], all);
                        }
                    }
                }
            }
            for (int jj = groups; jj < count; jj++) {
                int vj = vBase + jj * kvDim;
                for (int d = d0; d < d1; d++) {
                    FloatKernels.axpy1(ot[d], st[jj], v[vj + d], visible[jj], nq);
                }
            }
        }
        System.arraycopy(newMax, lo, max, lo, nq - lo);
    }
}
