package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.DeviceBuffer;

/**
 * The key (or value) storage of one attention call, f32, f16 or q8_0, and the one place that hands a
 * run of its rows to an {@link AttentionKernel}: f32 rows of a small tile are read in place, other
 * rows are first staged (f16 or q8_0 converted) into a scratch array, once per step for every query of the
 * tile, or of every head of a decode task.
 */
final class KvRows {
    /**
     * From this many query rows on, f32 rows are packed too: rows a whole cache row apart (often a
     * multiple of 4 KiB) fall into the same few L1 cache sets, and a tile reads them many times.
     */
    private static final int STAGED_ROWS = 8;
    private final float[] f32;
    private final short[] f16;
    /** A q8_0 buffer's quants and block scales, else null. */
    private final byte[] quants;
    private final short[] scales;
    private final int offset;
    private final int kvDim;

    private KvRows(float[] f32, short[] f16, byte[] quants, short[] scales, int offset, int kvDim) {
        this.f32 = f32;
        this.f16 = f16;
        this.quants = quants;
        this.scales = scales;
        this.offset = offset;
        this.kvDim = kvDim;
    }

    /**
     * The rows of {@code buffer}, each {@code shape.kvDim()} elements; a q8_0 buffer needs heads of
     * whole blocks, since a head's part of a row is staged on its own.
     */
    static KvRows of(DeviceBuffer buffer, AttentionShape shape) {
        int kvDim = shape.kvDim();
        int headDim = shape.headDim();
        if (buffer instanceof CpuBuffer b) {
            return new KvRows(b.data, null, null, null, b.offset, kvDim);
        }
        if (buffer instanceof CpuHalfBuffer h) {
            return new KvRows(null, h.data, null, null, h.offset, kvDim);
        }
        if (buffer instanceof CpuQ8Buffer q) {
            if (headDim % CpuQ8Buffer.BLOCK != 0) {
                throw new IllegalArgumentException("a q8_0 KV cache needs a head dim that is a multiple of "
                        + CpuQ8Buffer.BLOCK + ", not " + headDim);
            }
            return new KvRows(null, null, q.quants, q.scales, q.offset, kvDim);
        }
        throw new IllegalArgumentException("buffer " + buffer + " does not belong to the CPU backend");
    }

    /**
     * Runs {@code kernel.step} for keys {@code j0 .. j0 + n - 1} of the kv head whose dims start at
     * column {@code head}, with {@code values} the matching value storage.
     */
    void step(AttentionKernel kernel, AttentionScratch s, KvRows values, float[] q, float[] qt, int[] last, int rows,
            int dim, SoftmaxState state, int head, int j0, int n) {
        float[] k;
        int kBase;
        float[] v;
        int vBase;
        int stride;
        if (f32 != null && values.f32 != null && rows < STAGED_ROWS) {
            k = f32;
            kBase = offset + j0 * kvDim + head;
            v = values.f32;
            vBase = values.offset + j0 * kvDim + head;
            stride = kvDim;
        } else {
            k = s.keyRows(n * dim);
            v = s.valueRows(n * dim);
            stage(kernel, values, k, v, head, 1, j0, n, dim);
            kBase = 0;
            vBase = 0;
            stride = dim;
        }
        float[] scores = s.scores(AttentionKernel.scratchFloats(rows, n));
        kernel.step(q, qt, last, rows, dim, state, scores, k, kBase, v, vBase, stride, j0, n);
    }

    /**
     * Runs {@code kernel.step} for keys {@code j0 .. j0 + n - 1} of kv heads {@code h0 .. h0 + heads - 1},
     * head {@code h0 + i} with queries {@code q[i]} into {@code states[first + i * stateStride]}. The
     * rows are staged for all those heads at once, f32 too, each row's heads read in one pass from
     * low address to high: a decode step then streams the cache instead of hopping a whole row
     * between reads of one head (f32 at 2048 keys, 28 layers: 28-29 ms against 38-41 read in
     * place). Each head's step is the one {@link #step} would run.
     */
    void stepHeads(AttentionKernel kernel, AttentionScratch s, KvRows values, float[][] q, int[] last, int rows,
            int dim, SoftmaxState[] states, int first, int stateStride, int h0, int heads, int j0, int n) {
        float[] scores = s.scores(AttentionKernel.scratchFloats(rows, n));
        float[] k = s.keyRows(heads * n * dim);
        float[] v = s.valueRows(heads * n * dim);
        stage(kernel, values, k, v, h0 * dim, heads, j0, n, dim);
        for (int i = 0; i < heads; i++) {
            kernel.step(q[i], null, last, rows, dim, states[first + i * stateStride], scores, k, i * n * dim, v,
                    i * n * dim, dim, j0, n);
        }
    }

    /**
     * Rows {@code j0 .. j0 + n - 1} of {@code heads} adjacent heads, the first at column {@code column},
     * of these keys into {@code keysInto} and of {@code values} into {@code valuesInto}: head {@code i}'s
     * row {@code jj} at {@code [(i * n + jj) * dim]}, each row's heads read in one pass from low address
     * to high. Keys and values go through one call site of the f16 conversion: with one site each,
     * C2 inlined the conversion twice into the decode task and, at random by compile order, ran past
     * its node budget and left a vector reinterpret boxed (eight-sequence decode 70-77 tok/s
     * against 102-112 in the runs that stayed under).
     */
    private void stage(AttentionKernel kernel, KvRows values, float[] keysInto, float[] valuesInto, int column,
            int heads, int j0, int n, int dim) {
        for (int part = 0; part < 2; part++) {
            KvRows from = part == 0 ? this : values;
            float[] into = part == 0 ? keysInto : valuesInto;
            for (int jj = 0; jj < n; jj++) {
                int at = from.offset + (j0 + jj) * from.kvDim + column;
                for (int i = 0; i < heads; i++) {
                    int intoAt = (i * n + jj) * dim;
                    if (from.f32 != null) {
                        System.arraycopy(from.f32, at + i * dim, into, intoAt, dim);
                    } else if (from.f16 != null) {
                        kernel.halfToFloat(from.f16, at + i * dim, into, intoAt, dim);
                    } else {
                        kernel.q8ToFloat(from.quants, from.scales, at + i * dim, into, intoAt, dim);
                    }
                }
            }
        }
    }
}
