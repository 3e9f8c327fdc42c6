package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Float16;

/**
 * Floats to q8_0 blocks and back, for {@link CpuQ8Buffer}: each block of 32 values gets as scale
 * {@code d} the smallest f16 at least {@code max|x| / 127} (rounded up, not to nearest, so that no
 * quant needs more than 127, even where a small block's scale is an f16 subnormal of few bits), at
 * most the largest finite f16; the quants are {@code q = round(x / d)}, ties away from zero,
 * clamped to +-127. Every value comes back within half a step ({@code d / 2}) of where it was,
 * or at +-127 steps if it lay beyond that; a NaN makes its whole block NaN. Back to float,
 * {@code d * q} is exact (an f16 times a byte fits a float's mantissa).
 */
final class Q8Blocks {
    private Q8Blocks() {
    }

    /** {@code src[srcOffset ..]} as q8_0 elements {@code offset .. offset + n - 1} of {@code q}, {@code d}. */
    static void quantize(float[] src, int srcOffset, byte[] q, short[] d, int offset, int n) {
        for (int b = 0; b < n; b += CpuQ8Buffer.BLOCK) {
            int from = srcOffset + b;
            float amax = 0;
            for (int i = 0; i < CpuQ8Buffer.BLOCK; i++) {
                amax = Math.max(amax, Math.abs(src[from + i]));
            }
            short bits = Float16.atLeast(Math.min(amax / 127, HalfFloats.MAX));
            d[(offset + b) / CpuQ8Buffer.BLOCK] = bits;
            float scale = Float16.toFloat(bits);
            float inverse = scale != 0 ? 1 / scale : 0;
            for (int i = 0; i < CpuQ8Buffer.BLOCK; i++) {
                float v = src[from + i] * inverse;
                int r = Math.min(127, Math.round(Math.abs(v)));
                q[offset + b + i] = (byte) (v < 0 ? -r : r);
            }
        }
    }

    /** {@code dst[dstOffset + i] = } q8_0 element {@code offset + i} of {@code q}, {@code d}; whole blocks. */
    static void dequantize(byte[] q, short[] d, int offset, float[] dst, int dstOffset, int n) {
        for (int b = 0; b < n; b += CpuQ8Buffer.BLOCK) {
            float scale = Float16.toFloat(d[(offset + b) / CpuQ8Buffer.BLOCK]);
            for (int i = 0; i < CpuQ8Buffer.BLOCK; i++) {
                dst[dstOffset + b + i] = scale * q[offset + b + i];
            }
        }
    }
}
