package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * One token times Q4_K weights (a decode step) straight from the quantized bytes, four rows at a
 * time. A decode step on the dequantize-then-sweep path spent four fifths of its matmul time
 * writing the dequantized floats and reading them back; here each group of {@link #LANES}
 * weights is dequantized in registers, with the same float operations as
 * {@link VectorDequantize} (a nibble widened, times the sub-block scale, minus its min), and
 * multiplied into its row's accumulator in ascending column order, so the outputs are
 * bit-identical to those of the sweep over dequantized rows.
 */
final class Q4KMatVec {
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final int LANES = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 8));
    private static final int BLOCK = 256;
    private static final int BLOCK_BYTES = 144;

    private Q4KMatVec() {
    }

    static boolean handles(GgmlType type, int tokens) {
        return type == GgmlType.Q4_K && tokens == 1;
    }

    static void multiply(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w, float[] x, int xOff,
            float[] y, int yOff) {
        int rows = w.rows();
        int blocks = w.cols() / BLOCK;
        int rowBytes = blocks * BLOCK_BYTES;
        int grain = (pool.grain(rows, 16) + 3) / 4 * 4;
        pool.forRange(rows, grain, (from, to) -> {
            byte[] q = scratch.get().bytes(4 * rowBytes);
            int o = from;
            for (; o + 4 <= to; o += 4) {
                for (int r = 0; r < 4; r++) {
                    w.buffer(o + r).get(w.offset(o + r), q, r * rowBytes, rowBytes);
                }
                fourRows(q, rowBytes, blocks, x, xOff, y, yOff + o);
            }
            for (; o < to; o++) {
                w.buffer(o).get(w.offset(o), q, 0, rowBytes);
                y[yOff + o] = oneRow(q, blocks, x, xOff);
            }
        });
    }

    /** Rows at bytes 0, rowBytes, 2 rowBytes, 3 rowBytes of {@code q} times {@code x} into {@code y[yAt .. yAt + 4)}. */
    private static void fourRows(byte[] q, int rowBytes, int blocks, float[] x, int xOff, float[] y, int yAt) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int p0 = k * BLOCK_BYTES;
            int p1 = p0 + rowBytes;
            int p2 = p1 + rowBytes;
            int p3 = p2 + rowBytes;
            for (int j = 0; j < 8; j++) {
                float d0 = VectorDequantize.f16(q, p0) * VectorDequantize.scale(q, p0 + 4, j);
                float m0 = VectorDequantize.f16(q, p0 + 2) * VectorDequantize.min(q, p0 + 4, j);
                float d1 = VectorDequantize.f16(q, p1) * VectorDequantize.scale(q, p1 + 4, j);
                float m1 = VectorDequantize.f16(q, p1 + 2) * VectorDequantize.min(q, p1 + 4, j);
                float d2 = VectorDequantize.f16(q, p2) * VectorDequantize.scale(q, p2 + 4, j);
                float m2 = VectorDequantize.f16(q, p2 + 2) * VectorDequantize.min(q, p2 + 4, j);
                float d3 = VectorDequantize.f16(q, p3) * VectorDequantize.scale(q, p3 + 4, j);
                float m3 = VectorDequantize.f16(q, p3 + 2) * VectorDequantize.min(q, p3 + 4, j);
                // Sub-block j holds the low (even j) or high (odd j) nibbles of bytes 32*(j/2) ..
                int qs = 16 + 32 * (j / 2);
                boolean high = (j & 1) == 1;
                int xAt = xOff + k * BLOCK + 32 * j;
                for (int l = 0; l < 32; l += LANES) {
                    FloatVector xv = FloatVector.fromArray(F, x, xAt + l);
                    a0 = weights(q, p0 + qs + l, high, d0, m0).fma(xv, a0);
                    a1 = weights(q, p1 + qs + l, high, d1, m1).fma(xv, a1);
                    a2 = weights(q, p2 + qs + l, high, d2, m2).fma(xv, a2);
                    a3 = weights(q, p3 + qs + l, high, d3, m3).fma(xv, a3);
                }
            }
        }
        y[yAt] = VectorMatmul.laneSum(a0);
        y[yAt + 1] = VectorMatmul.laneSum(a1);
        y[yAt + 2] = VectorMatmul.laneSum(a2);
        y[yAt + 3] = VectorMatmul.laneSum(a3);
    }

    private static float oneRow(byte[] q, int blocks, float[] x, int xOff) {
        FloatVector a = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            int p = k * BLOCK_BYTES;
            for (int j = 0; j < 8; j++) {
                float d = VectorDequantize.f16(q, p) * VectorDequantize.scale(q, p + 4, j);
                float m = VectorDequantize.f16(q, p + 2) * VectorDequantize.min(q, p + 4, j);
                int qs = p + 16 + 32 * (j / 2);
                int xAt = xOff + k * BLOCK + 32 * j;
                for (int l = 0; l < 32; l += LANES) {
                    a = weights(q, qs + l, (j & 1) == 1, d, m).fma(FloatVector.fromArray(F, x, xAt + l), a);
                }
            }
        }
        return VectorMatmul.laneSum(a);
    }

    /** {@link #LANES} weights from the nibbles at byte {@code at}: {@code nibble * d - m}. */
    private static FloatVector weights(byte[] q, int at, boolean high, float d, float m) {
        ByteVector b = ByteVector.fromArray(B, q, at);
        ByteVector nibbles = high ? VectorDequantize.highNibbles(b) : b.and((byte) 0x0F);
        return VectorDequantize.widen(nibbles).mul(d).sub(m);
    }
}
