package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.cpu.CpuScratch.Slot;
import java.util.Arrays;

/**
 * Causal grouped-query attention over a token-major KV cache, one task per query head, with an
 * online softmax over blocks of {@link #KEY_BLOCK} keys (running max and sum; what was
 * accumulated is rescaled when the max grows).
 *
 * <p>A prefill chunk runs every query of a head at once, vectorized across queries: queries are
 * transposed to {@code qt[d][t]}, the scores of one key are {@code s[t] += k[d] * qt[d][t]}, the
 * outputs {@code o[d][t] += v[d] * p[t]}, all loops over {@code t} at equal indices of separate
 * arrays. A decode step (few queries) runs the same arithmetic one query at a time, the query
 * heads that share a kv head together, so each block of keys and values is read once per group.
 *
 * <p>Both paths do, for each query, exactly the same float operations in the same order: key
 * blocks start at multiples of {@code KEY_BLOCK}, values are added in groups of four keys counted
 * from the block start, and a key the query may not see (a later one, or past the cache end)
 * weighs exactly 0 and adds exactly nothing. So the output of a query is bit-identical whether
 * it is computed in a chunk of 1 or of 512 tokens, and a query never sees a later key.
 */
final class CpuAttention {
    /** From this many queries on, the vectorized path pays off. */
    static final int TILED_MIN_QUERIES = 16;
    /** Keys per online-softmax step; a multiple of 4. */
    static final int KEY_BLOCK = 64;
    /** Keys whose scores are built together from each group of four query rows. */
    private static final int KEY_TILE = 8;
    /** Output dims updated together from each group of four weight rows. */
    private static final int DIM_TILE = 8;

    private CpuAttention() {
    }

    static void run(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, float[] q, int qOff, float[] k, int kOff,
            float[] v, int vOff, int tokens, int firstIndex, AttentionShape shape, float[] out, int outOff) {
        if (tokens >= TILED_MIN_QUERIES) {
            pool.forRange(shape.heads(), 1, (from, to) -> {
                CpuScratch s = scratch.get();
                for (int h = from; h < to; h++) {
                    headTiled(s, q, qOff, k, kOff, v, vOff, tokens, firstIndex, shape, h, out, outOff);
                }
            });
        } else {
            pool.forRange(shape.kvHeads(), 1, (from, to) -> {
                CpuScratch s = scratch.get();
                for (int g = from; g < to; g++) {
                    groupPerQuery(s, q, qOff, k, kOff, v, vOff, tokens, firstIndex, shape, g, out, outOff);
                }
            });
        }
    }

    /**
     * The query heads of kv head {@code g}, one query at a time. The group's heads take each block
     * of keys and values in turn, so the block is read from memory once for the whole group.
     */
    private static void groupPerQuery(CpuScratch s, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
            int tokens, int firstIndex, AttentionShape shape, int g, float[] out, int outOff) {
        int dim = shape.headDim();
        int kvDim = shape.kvDim();
        int group = shape.groupSize();
        int kvHead = g * dim;
        float scale = shape.scale();
        float[][] qs = s.matrix(Slot.QUERY_SCALED, group, dim);
        float[][] os = s.matrix(Slot.OUTPUT_ROWS, group, dim);
        float[][] ps = s.matrix(Slot.SCORES, group, KEY_BLOCK);
        float[] max = s.vector(Slot.GROUP_MAX, group);
        float[] sum = s.vector(Slot.GROUP_SUM, group);
        for (int t = 0; t < tokens; t++) {
            int row = firstIndex + t;
            for (int r = 0; r < group; r++) {
                int qo = qOff + t * shape.queryDim() + (g * group + r) * dim;
                for (int d = 0; d < dim; d++) {
                    qs[r][d] = q[qo + d] * scale;
                }
                Arrays.fill(os[r], 0, dim, 0f);
                max[r] = Float.NEGATIVE_INFINITY;
                sum[r] = 0;
            }
            for (int j0 = 0; j0 <= row; j0 += KEY_BLOCK) {
                int n = Math.min(KEY_BLOCK, row + 1 - j0);
                for (int r = 0; r < group; r++) {
                    blockPerQuery(qs[r], os[r], ps[r], max, sum, r, k, kOff + j0 * kvDim + kvHead,
                            v, vOff + j0 * kvDim + kvHead, kvDim, dim, n);
                }
            }
            for (int r = 0; r < group; r++) {
                float inv = 1f / sum[r];
                int oo = outOff + t * shape.queryDim() + (g * group + r) * dim;
                for (int d = 0; d < dim; d++) {
                    out[oo + d] = os[r][d] * inv;
                }
            }
        }
    }

    /**
     * One key block for one query: scores {@code p} of its {@code n} visible keys (key rows from
     * {@code kb}, value rows from {@code vb}), online-softmax update of {@code max[r]} and
     * {@code sum[r]}, weighted values into {@code o}; the same operations as {@link #headTiled}
     * does for this query's lane.
     */
    private static void blockPerQuery(float[] qs, float[] o, float[] p, float[] max, float[] sum, int r,
            float[] k, int kb, float[] v, int vb, int kvDim, int dim, int n) {
        int jj = 0;
        for (; jj + 4 <= n; jj += 4) {
            scores4(qs, k, kb + jj * kvDim, kvDim, dim, p, jj);
        }
        for (; jj < n; jj++) {
            p[jj] = FloatKernels.dot(qs, 0, k, kb + jj * kvDim, dim);
        }
        float newMax = max[r];
        for (jj = 0; jj < n; jj++) {
            newMax = Math.max(newMax, p[jj]);
        }
        float alpha = (float) Math.exp(max[r] - newMax);
        float total = sum[r] * alpha;
        for (int d = 0; d < dim; d++) {
            o[d] *= alpha;
        }
        for (jj = 0; jj < n; jj++) {
            p[jj] = (float) Math.exp(p[jj] - newMax);
            total += p[jj];
        }
        for (jj = 0; jj + 4 <= n; jj += 4) {
            int v0 = vb + jj * kvDim;
            int v1 = v0 + kvDim;
            int v2 = v1 + kvDim;
            int v3 = v2 + kvDim;
            float p0 = p[jj];
            float p1 = p[jj + 1];
            float p2 = p[jj + 2];
            float p3 = p[jj + 3];
            for (int d = 0; d < dim; d++) {
                o[d] += (p0 * v[v0 + d] + p1 * v[v1 + d]) + (p2 * v[v2 + d] + p3 * v[v3 + d]);
            }
        }
        if (jj < n) {
            // The last short group, padded with zero weights as the chunk path pads it.
            int v0 = vb + jj * kvDim;
            int v1 = jj + 1 < n ? v0 + kvDim : -1;
            int v2 = jj + 2 < n ? v0 + 2 * kvDim : -1;
            float p0 = p[jj];
            float p1 = jj + 1 < n ? p[jj + 1] : 0f;
            float p2 = jj + 2 < n ? p[jj + 2] : 0f;
            for (int d = 0; d < dim; d++) {
                o[d] += (p0 * v[v0 + d] + p1 * valueOrZero(v, v1, d)) + (p2 * valueOrZero(v, v2, d) + 0f);
            }
        }
        max[r] = newMax;
        sum[r] = total;
    }

    /**
     * Scores of four consecutive keys (rows {@code kRow}, {@code kRow + kvDim}, ...) against the
     * scaled query, into {@code p[at .. at + 3]}: four independent sums, each in the order of
     * {@link FloatKernels#dot}.
     */
    private static void scores4(float[] qs, float[] k, int kRow, int kvDim, int dim, float[] p, int at) {
        int b0 = kRow;
        int b1 = b0 + kvDim;
        int b2 = b1 + kvDim;
        int b3 = b2 + kvDim;
        float a0 = 0;
        float a1 = 0;
        float a2 = 0;
        float a3 = 0;
        int d = 0;
        for (; d + 4 <= dim; d += 4) {
            float q0 = qs[d];
            float q1 = qs[d + 1];
            float q2 = qs[d + 2];
            float q3 = qs[d + 3];
            a0 += (q0 * k[b0 + d] + q1 * k[b0 + d + 1]) + (q2 * k[b0 + d + 2] + q3 * k[b0 + d + 3]);
            a1 += (q0 * k[b1 + d] + q1 * k[b1 + d + 1]) + (q2 * k[b1 + d + 2] + q3 * k[b1 + d + 3]);
            a2 += (q0 * k[b2 + d] + q1 * k[b2 + d + 1]) + (q2 * k[b2 + d + 2] + q3 * k[b2 + d + 3]);
            a3 += (q0 * k[b3 + d] + q1 * k[b3 + d + 1]) + (q2 * k[b3 + d + 2] + q3 * k[b3 + d + 3]);
        }
        for (; d < dim; d++) {
            a0 += qs[d] * k[b0 + d];
            a1 += qs[d] * k[b1 + d];
            a2 += qs[d] * k[b2 + d];
            a3 += qs[d] * k[b3 + d];
        }
        p[at] = a0;
        p[at + 1] = a1;
        p[at + 2] = a2;
        p[at + 3] = a3;
    }

    private static float valueOrZero(float[] v, int base, int d) {
        return base < 0 ? 0f : v[base + d];
    }

    private static void headTiled(CpuScratch s, float[] q, int qOff, float[] k, int kOff, float[] v, int vOff,
            int tokens, int firstIndex, AttentionShape shape, int h, float[] out, int outOff) {
        int dim = shape.headDim();
        int qDim = shape.queryDim();
        int kvDim = shape.kvDim();
        int kvHead = (h / shape.groupSize()) * dim;
        float scale = shape.scale();
        float[][] qt = s.matrix(Slot.QUERY_T, dim, tokens);
        float[][] ot = s.matrix(Slot.OUTPUT_T, dim, tokens);
        float[][] st = s.matrix(Slot.SCORES_T, KEY_BLOCK, tokens);
        float[] max = s.vector(Slot.ROW_MAX, tokens);
        float[] newMax = s.vector(Slot.NEW_MAX, tokens);
        float[] sum = s.vector(Slot.ROW_SUM, tokens);
        float[] zeros = s.vector(Slot.ZEROS, tokens);
        Arrays.fill(zeros, 0, tokens, 0f);
        for (int t = 0; t < tokens; t++) {
            int qo = qOff + t * qDim + h * dim;
            for (int d = 0; d < dim; d++) {
                qt[d][t] = q[qo + d] * scale;
            }
        }
        for (int d = 0; d < dim; d++) {
            Arrays.fill(ot[d], 0, tokens, 0f);
        }
        Arrays.fill(max, 0, tokens, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, tokens, 0f);

        int end = firstIndex + tokens;
        for (int j0 = 0; j0 < end; j0 += KEY_BLOCK) {
            int n = Math.min(KEY_BLOCK, end - j0);
            // Queries before lo precede every key of this block and skip it.
            int lo = Math.max(0, j0 - firstIndex);

            // Scores; -inf where the query precedes the key. Keys in sub-blocks of KEY_TILE so that the
            // four query rows of each step serve several keys from L1 cache.
            for (int jj = 0; jj < n; jj++) {
                Arrays.fill(st[jj], lo, tokens, 0f);
            }
            for (int k0 = 0; k0 < n; k0 += KEY_TILE) {
                int k1 = Math.min(n, k0 + KEY_TILE);
                int d = 0;
                for (; d + 4 <= dim; d += 4) {
                    float[] q0 = qt[d];
                    float[] q1 = qt[d + 1];
                    float[] q2 = qt[d + 2];
                    float[] q3 = qt[d + 3];
                    for (int jj = k0; jj < k1; jj++) {
                        int kb = kOff + (j0 + jj) * kvDim + kvHead + d;
                        FloatKernels.axpy4(st[jj], q0, q1, q2, q3, k[kb], k[kb + 1], k[kb + 2], k[kb + 3], lo, tokens);
                    }
                }
                for (; d < dim; d++) {
                    for (int jj = k0; jj < k1; jj++) {
                        FloatKernels.axpy1(st[jj], qt[d], k[kOff + (j0 + jj) * kvDim + kvHead + d], lo, tokens);
                    }
                }
            }
            for (int jj = 0; jj < n; jj++) {
                int visibleFrom = Math.min(tokens, j0 + jj - firstIndex);
                if (visibleFrom > lo) {
                    Arrays.fill(st[jj], lo, visibleFrom, Float.NEGATIVE_INFINITY);
                }
            }

            // New running max; rescale the sums and outputs accumulated under the old one.
            System.arraycopy(max, lo, newMax, lo, tokens - lo);
            for (int jj = 0; jj < n; jj++) {
                float[] sr = st[jj];
                for (int t = lo; t < tokens; t++) {
                    newMax[t] = Math.max(newMax[t], sr[t]);
                }
            }
            // max[] now holds the rescale factor exp(old - new); an empty past (-inf) gives 0.
            for (int t = lo; t < tokens; t++) {
                float alpha = (float) Math.exp(max[t] - newMax[t]);
                max[t] = alpha;
                sum[t] *= alpha;
            }
            for (int d = 0; d < dim; d++) {
                FloatKernels.scale(ot[d], max, lo, tokens);
            }
            for (int jj = 0; jj < n; jj++) {
                float[] sr = st[jj];
                for (int t = lo; t < tokens; t++) {
                    float p = (float) Math.exp(sr[t] - newMax[t]);
                    sr[t] = p;
                    sum[t] += p;
                }
            }

            // Weighted values, four keys at a time (a last short group padded with zero weights), over
            // dims in tiles of DIM_TILE so that outputs and weights both stay in L1 cache.
            for (int d0 = 0; d0 < dim; d0 += DIM_TILE) {
                int d1 = Math.min(dim, d0 + DIM_TILE);
                for (int jj = 0; jj < n; jj += 4) {
                    int v0 = vOff + (j0 + jj) * kvDim + kvHead;
                    float[] p1 = jj + 1 < n ? st[jj + 1] : zeros;
                    float[] p2 = jj + 2 < n ? st[jj + 2] : zeros;
                    float[] p3 = jj + 3 < n ? st[jj + 3] : zeros;
                    int v1 = jj + 1 < n ? v0 + kvDim : -1;
                    int v2 = jj + 2 < n ? v0 + 2 * kvDim : -1;
                    int v3 = jj + 3 < n ? v0 + 3 * kvDim : -1;
                    for (int d = d0; d < d1; d++) {
                        FloatKernels.axpy4(ot[d], st[jj], p1, p2, p3, v[v0 + d], valueOrZero(v, v1, d),
                                valueOrZero(v, v2, d), valueOrZero(v, v3, d), lo, tokens);
                    }
                }
            }
            System.arraycopy(newMax, lo, max, lo, tokens - lo);
        }

        for (int t = 0; t < tokens; t++) {
            float inv = 1f / sum[t];
            int oo = outOff + t * qDim + h * dim;
            for (int d = 0; d < dim; d++) {
                out[oo + d] = ot[d][t] * inv;
            }
        }
    }
}
