package dev.pflash.runtime.backend.cpu;

import java.util.Arrays;

/**
 * The running state of an online softmax for {@code rows} queries of {@code dim} dims: per row the
 * largest score seen ({@code -inf} before any key), the sum of {@code exp(score - max)} and the
 * output {@code o = sum exp(score - max) * value}, not yet divided by the sum. Arrays grow on demand
 * and are reused.
 */
final class SoftmaxState {
    float[] out = new float[0];
    float[] max = new float[0];
    float[] sum = new float[0];
    int rows;
    int dim;

    /** Empties the state for {@code rows} rows of {@code dim} dims. */
    void reset(int rows, int dim) {
        this.rows = rows;
        this.dim = dim;
        if (out.length < rows * dim) {
            out = new float[rows * dim];
        }
        if (max.length < rows) {
            max = new float[rows];
            sum = new float[rows];
        }
        Arrays.fill(out, 0, rows * dim, 0f);
        Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, rows, 0f);
    }

    /**
     * Folds in {@code other}, the state of the same rows over a later range of keys: both are
     * rescaled to the larger max. A row either side has not seen a key yet is taken as it is, so
     * folding into an empty state copies exactly.
     */
    void merge(SoftmaxState other) {
        for (int r = 0; r < rows; r++) {
            float m1 = other.max[r];
            if (m1 == Float.NEGATIVE_INFINITY) {
                continue;
            }
            int o = r * dim;
            float m0 = max[r];
            if (m0 == Float.NEGATIVE_INFINITY) {
                System.arraycopy(other.out, o, out, o, dim);
                max[r] = m1;
                sum[r] = other.sum[r];
                continue;
            }
            float m = Math.max(m0, m1);
            float a = (float) Math.exp(m0 - m);
            float b = (float) Math.exp(m1 - m);
            sum[r] = sum[r] * a + other.sum[r] * b;
            for (int d = 0; d < dim; d++) {
                out[o + d] = out[o + d] * a + other.out[o + d] * b;
            }
            max[r] = m;
        }
    }

    /** Writes row {@code r}'s attention output, {@code o / sum}, to {@code dst[at ..]}. */
    void finish(int r, float[] dst, int at) {
        float inv = 1f / sum[r];
        int o = r * dim;
        for (int d = 0; d < dim; d++) {
            dst[at + d] = out[o + d] * inv;
        }
    }
}
