package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.BlockMask;

/**
 * Block-sparse causal attention (FlashPrefill's sparse forward): one task per (query head, query
 * block), reading only the key blocks the mask selects, on the same {@link AttentionKernel} and
 * in the same key steps and softmax segments as {@link CpuAttention}. A mask may select different
 * blocks for the heads of one group, so a task serves one head; its rows are the block's queries.
 * With every block selected and blocks a multiple of {@link CpuAttention#KEY_STEP} long, each
 * query goes through exactly the operations of dense attention.
 */
final class CpuBlockSparseAttention {
    private CpuBlockSparseAttention() {
    }

    static void run(CpuThreadPool pool, ThreadLocal<AttentionScratch> scratch, AttentionKernel kernel, float[] q,
            int qOff, KvRows keys, KvRows values, int tokens, int firstIndex, AttentionShape shape, BlockMask mask,
            float[] out, int outOff) {
        int queryBlocks = mask.queryBlocks();
        // Later query blocks read more keys; handing them out first evens the threads' finishing times.
        pool.forRange(shape.heads() * queryBlocks, 1, (from, to) -> {
            AttentionScratch s = scratch.get();
            for (int task = from; task < to; task++) {
                int b = queryBlocks - 1 - task / shape.heads();
                int h = task % shape.heads();
                block(kernel, s, q, qOff, keys, values, tokens, firstIndex, shape, mask, h,
                        mask.firstQueryBlock() + b, out, outOff);
            }
        });
    }

    private static void block(AttentionKernel kernel, AttentionScratch s, float[] q, int qOff, KvRows keys,
            KvRows values, int tokens, int firstIndex, AttentionShape shape, BlockMask mask, int h, int m,
            float[] out, int outOff) {
        int blockTokens = mask.blockTokens();
        int dim = shape.headDim();
        int head = (h / shape.groupSize()) * dim;
        int firstRow = m * blockTokens - firstIndex;
        int nq = Math.min(blockTokens, tokens - firstRow);
        int firstQuery = firstIndex + firstRow;
        float[] qs = s.queries(nq * dim);
        int[] last = s.last(nq);
        float scale = shape.scale();
        for (int t = 0; t < nq; t++) {
            int qo = qOff + (firstRow + t) * shape.queryDim() + h * dim;
            for (int d = 0; d < dim; d++) {
                qs[t * dim + d] = q[qo + d] * scale;
            }
            last[t] = firstQuery + t;
        }

        float[] qt = s.transposedQueries(AttentionKernel.transposedFloats(nq, dim));
        AttentionKernel.transposeQueries(qs, nq, dim, qt);
        s.total.reset(nq, dim);
        int segment = -1;
        for (int n : mask.keyBlocks(h, m)) {
            int keyEnd = Math.min((n + 1) * blockTokens, firstQuery + nq);
            for (int j0 = n * blockTokens; j0 < keyEnd; j0 += CpuAttention.KEY_STEP) {
                if (j0 / CpuAttention.SEGMENT != segment) {
                    if (segment >= 0) {
                        s.total.merge(s.segment);
                    }
                    segment = j0 / CpuAttention.SEGMENT;
                    s.segment.reset(nq, dim);
                }
                int step = Math.min(CpuAttention.KEY_STEP, keyEnd - j0);
                keys.step(kernel, s, values, qs, qt, last, nq, dim, s.segment, head, j0, step);
            }
        }
        if (segment >= 0) {
            s.total.merge(s.segment);
        }
        for (int t = 0; t < nq; t++) {
            s.total.finish(t, out, outOff + (firstRow + t) * shape.queryDim() + h * dim);
        }
    }
}
