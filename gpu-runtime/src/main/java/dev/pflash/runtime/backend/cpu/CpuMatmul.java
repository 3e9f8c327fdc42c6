package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.cpu.CpuScratch.Slot;
import java.util.Arrays;

/**
 * The scalar matmul: the reference that {@link VectorMatmul} is tested against, and the kernel
 * that runs when the Vector API is not available ({@link VectorSupport}).
 * {@code y[t][o] = sum_i w[o][i] * x[t][i]} with quantized weights: each worker dequantizes weight
 * rows into a small float scratch and applies them to every token of the chunk, so a prefill
 * chunk decodes each weight row once, not once per token.
 *
 * <p>Two float kernels, chosen by the number of tokens:
 * <ul>
 *   <li>many tokens (prefill): the input is transposed once into one array per input element,
 *       {@code xt[i][t]}, and each output row is built as {@code acc[t] += w[i] * xt[i][t]} over all
 *       tokens, four {@code i} at a time ({@link FloatKernels#axpy4}, compiled to SIMD code). Rows
 *       go in blocks of {@link #ROW_BLOCK}: each group of four input arrays, once in L1 cache,
 *       serves every row of the block before the next group is loaded;</li>
 *   <li>few tokens (decode): a dot product of the row with each token vector
 *       ({@link FloatKernels#dot}; for one token {@link CpuWeightMatrix#dotRow}, which reads Q8_0
 *       rows in place).</li>
 * </ul>
 * Both kernels add the products of each output in the same order, so results do not depend on
 * how many tokens a call carries.
 */
final class CpuMatmul {
    /** From this many tokens on, the transposed kernel's SIMD inner loop beats dot products. */
    static final int TRANSPOSED_MIN_TOKENS = 16;
    /** Weight rows that share each load of the transposed input. */
    static final int ROW_BLOCK = 8;

    private CpuMatmul() {
    }

    static void multiply(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        if (tokens >= TRANSPOSED_MIN_TOKENS) {
            multiplyTransposed(pool, scratch, w, x, xOff, tokens, y, yOff);
        } else {
            multiplyDots(pool, scratch, w, x, xOff, tokens, y, yOff);
        }
    }

    private static void multiplyTransposed(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        int rows = w.rows();
        int cols = w.cols();
        float[][] xt = scratch.get().matrix(Slot.TRANSPOSED_INPUT, cols, tokens);
        pool.forRange(cols, pool.grain(cols, 64), (from, to) -> {
            for (int t = 0; t < tokens; t++) {
                int base = xOff + t * cols;
                for (int i = from; i < to; i++) {
                    xt[i][t] = x[base + i];
                }
            }
        });
        int grain = (pool.grain(rows, ROW_BLOCK) + ROW_BLOCK - 1) / ROW_BLOCK * ROW_BLOCK;
        pool.forRange(rows, grain, (from, to) -> {
            CpuScratch s = scratch.get();
            float[][] wr = s.matrix(Slot.WEIGHT_ROWS, ROW_BLOCK, cols);
            float[][] acc = s.matrix(Slot.ACCUMULATORS, ROW_BLOCK, tokens);
            for (int o0 = from; o0 < to; o0 += ROW_BLOCK) {
                int n = Math.min(ROW_BLOCK, to - o0);
                for (int r = 0; r < n; r++) {
                    w.dequantizeRow(o0 + r, wr[r], 0);
                    Arrays.fill(acc[r], 0, tokens, 0f);
                }
                int i = 0;
                for (; i + 4 <= cols; i += 4) {
                    float[] x0 = xt[i];
                    float[] x1 = xt[i + 1];
                    float[] x2 = xt[i + 2];
                    float[] x3 = xt[i + 3];
                    for (int r = 0; r < n; r++) {
                        float[] wi = wr[r];
                        FloatKernels.axpy4(acc[r], x0, x1, x2, x3, wi[i], wi[i + 1], wi[i + 2], wi[i + 3], 0, tokens);
                    }
                }
                for (; i < cols; i++) {
                    for (int r = 0; r < n; r++) {
                        FloatKernels.axpy1(acc[r], xt[i], wr[r][i], 0, tokens);
                    }
                }
                for (int r = 0; r < n; r++) {
                    float[] a = acc[r];
                    for (int t = 0; t < tokens; t++) {
                        y[yOff + t * rows + o0 + r] = a[t];
                    }
                }
            }
        });
    }

    private static void multiplyDots(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        int rows = w.rows();
        int cols = w.cols();
        pool.forRange(rows, pool.grain(rows, 16), (from, to) -> {
            float[] row = scratch.get().vector(Slot.WEIGHT_ROW, cols);
            if (tokens == 1) {
                for (int o = from; o < to; o++) {
                    y[yOff + o] = w.dotRow(o, x, xOff, row);
                }
                return;
            }
            for (int o = from; o < to; o++) {
                w.dequantizeRow(o, row, 0);
                for (int t = 0; t < tokens; t++) {
                    y[yOff + t * rows + o] = FloatKernels.dot(row, 0, x, xOff + t * cols, cols);
                }
            }
        });
    }
}
