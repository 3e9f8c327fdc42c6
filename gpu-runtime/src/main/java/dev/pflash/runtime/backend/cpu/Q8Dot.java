package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Float16;
import java.nio.ByteBuffer;

/**
 * The dot product of a Q8_0 weight row with a float vector, read straight from the block bytes
 * (eight quants per {@code getLong}) instead of through a dequantized row: the decode step's
 * matmul is bound by reading weights, and this cuts its cost by about a third. Each weight is
 * {@code d * q}, exactly the float the dequantizer gives (an f16 times an 8-bit integer fits a
 * float's mantissa), and the products are summed in the order of {@link FloatKernels#dot}, so
 * the result is bit-identical to dequantize-then-dot.
 */
final class Q8Dot {
    /** Bytes of a Q8_0 block: f16 scale, then 32 signed quants. */
    private static final int BLOCK_BYTES = 34;

    private Q8Dot() {
    }

    /** {@code sum_i w[i] * x[x0 + i]} over {@code blocks} blocks starting at byte {@code off} of {@code b} (little-endian). */
    static float dot(ByteBuffer b, int off, float[] x, int x0, int blocks) {
        float acc = 0;
        for (int k = 0; k < blocks; k++, off += BLOCK_BYTES) {
            float d = Float16.toFloat(b.getShort(off));
            int p = x0 + 32 * k;
            for (int j = 0; j < 4; j++, p += 8) {
                long q = b.getLong(off + 2 + 8 * j);
                acc += (d * (byte) q * x[p] + d * (byte) (q >> 8) * x[p + 1])
                        + (d * (byte) (q >> 16) * x[p + 2] + d * (byte) (q >> 24) * x[p + 3]);
                acc += (d * (byte) (q >> 32) * x[p + 4] + d * (byte) (q >> 40) * x[p + 5])
                        + (d * (byte) (q >> 48) * x[p + 6] + d * (byte) (q >> 56) * x[p + 7]);
            }
        }
        return acc;
    }
}
