package dev.pflash.runtime.backend.cpu;

/**
 * The float inner loops shared by the CPU matmul and attention. The {@code axpy} loops read and
 * write separate arrays at the same index {@code t}: that is the shape HotSpot's C2 compiles to
 * SIMD instructions on Java 17 (an array read at an offset from another array's index might
 * overlap it, so C2 leaves such loops scalar).
 */
final class FloatKernels {
    private FloatKernels() {
    }

    /** {@code acc[t] += w0*x0[t] + w1*x1[t] + w2*x2[t] + w3*x3[t]} for {@code from <= t < to}. */
    static void axpy4(float[] acc, float[] x0, float[] x1, float[] x2, float[] x3,
            float w0, float w1, float w2, float w3, int from, int to) {
        for (int t = from; t < to; t++) {
            acc[t] += (w0 * x0[t] + w1 * x1[t]) + (w2 * x2[t] + w3 * x3[t]);
        }
    }

    /** {@code acc[t] += w0*x0[t]} for {@code from <= t < to}. */
    static void axpy1(float[] acc, float[] x0, float w0, int from, int to) {
        for (int t = from; t < to; t++) {
            acc[t] += w0 * x0[t];
        }
    }

    /** {@code x[t] *= factor[t]} for {@code from <= t < to}. */
    static void scale(float[] x, float[] factor, int from, int to) {
        for (int t = from; t < to; t++) {
            x[t] *= factor[t];
        }
    }

    /**
     * {@code sum_i a[a0 + i] * b[b0 + i]}, summed in exactly the order in which {@link #axpy4} and
     * {@link #axpy1} accumulate one lane (groups of four, then single products), so that a dot
     * product and a transposed-kernel lane give bit-identical results: a prompt gives the same
     * logits however it is split into chunks.
     */
    static float dot(float[] a, int a0, float[] b, int b0, int n) {
        float acc = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            acc += (a[a0 + i] * b[b0 + i] + a[a0 + i + 1] * b[b0 + i + 1])
                    + (a[a0 + i + 2] * b[b0 + i + 2] + a[a0 + i + 3] * b[b0 + i + 3]);
        }
        for (; i < n; i++) {
            acc += a[a0 + i] * b[b0 + i];
        }
        return acc;
    }

}
