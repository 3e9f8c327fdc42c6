package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;

/**
 * The key (or value) storage of one attention call, f32 or f16, and the one place that hands a
 * run of its rows to an {@link AttentionKernel}: f32 rows are read in place, f16 rows are first
 * converted into a scratch array, once per step for every query of the tile.
 */
final class KvRows {
    /**
     * From this many query rows on, f32 rows are packed too: rows a whole cache row apart (often a
     * multiple of 4 KiB) fall into the same few L1 cache sets, and a tile reads them many times.
     */
    private static final int STAGED_ROWS = 8;
    private final float[] f32;
    private final short[] f16;
    private final int offset;
    private final int kvDim;

    private KvRows(float[] f32, short[] f16, int offset, int kvDim) {
        this.f32 = f32;
        this.f16 = f16;
        this.offset = offset;
        this.kvDim = kvDim;
    }

    /** The rows of {@code buffer}, each {@code kvDim} elements. */
    static KvRows of(DeviceBuffer buffer, int kvDim) {
        if (buffer instanceof CpuBuffer b) {
            return new KvRows(b.data, null, b.offset, kvDim);
        }
        if (buffer instanceof CpuHalfBuffer h) {
            return new KvRows(null, h.data, h.offset, kvDim);
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
            k = stage(kernel, s.keyRows(n * dim), head, j0, n, dim);
            v = values.stage(kernel, s.valueRows(n * dim), head, j0, n, dim);
            kBase = 0;
            vBase = 0;
            stride = dim;
        }
        float[] scores = s.scores(AttentionKernel.scratchFloats(rows, n));
        kernel.step(q, qt, last, rows, dim, state, scores, k, kBase, v, vBase, stride, j0, n);
    }

    /** Rows {@code j0 .. j0 + n - 1} of the head at column {@code head}, packed {@code dim} apart in {@code into}. */
    private float[] stage(AttentionKernel kernel, float[] into, int head, int j0, int n, int dim) {
        for (int jj = 0; jj < n; jj++) {
            int at = offset + (j0 + jj) * kvDim + head;
            if (f32 != null) {
                System.arraycopy(f32, at, into, jj * dim, dim);
            } else {
                kernel.halfToFloat(f16, at, into, jj * dim, dim);
            }
        }
        return into;
    }
}
