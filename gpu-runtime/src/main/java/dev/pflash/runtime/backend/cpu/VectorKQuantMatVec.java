package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.cpu.CpuScratch.Slot;
import dev.pflash.runtime.gguf.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One token (a decode step) times Q4_K, Q5_K or Q6_K weights, four rows at a time, dequantized one
 * 256-value block of each row at a time into a 4 KiB buffer that stays in the L1 cache, and
 * multiplied in column order into one accumulator per row. The weights are the floats of
 * {@link VectorDequantize} and the sums those of {@link VectorMatmul}'s one-token tile, so the
 * bits equal the prefill path's, which dequantizes 16 whole rows first: at 3072 columns those
 * rows are 192 KiB of floats written out and read back from the L2 cache for a single token.
 */
final class VectorKQuantMatVec {
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final int LANES = F.length();
    private static final int BLOCK = 256;

    private VectorKQuantMatVec() {
    }

    static boolean handles(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q6_K;
    }

    static void multiply(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w, float[] x, int xOff,
            float[] y, int yOff) {
        int rows = w.rows();
        int blocks = w.cols() / BLOCK;
        int blockBytes = Math.toIntExact(w.type().byteSize(BLOCK));
        int rowBytes = blocks * blockBytes;
        GgmlType type = w.type();
        int grain = (pool.grain(rows, 16) + 3) / 4 * 4;
        pool.forRange(rows, grain, (from, to) -> {
            CpuScratch s = scratch.get();
            byte[] q = s.bytes(4 * rowBytes);
            float[] block = s.vector(Slot.WEIGHT_BLOCK, 4 * BLOCK + 4);
            KQuantScales ks = s.kQuantScales();
            for (int o = from; o < to; o += 4) {
                int n = Math.min(4, to - o);
                // A last group of fewer than 4 rows repeats its last row; only its n outputs are kept.
                for (int r = 0; r < 4; r++) {
                    int row = o + Math.min(r, n - 1);
                    w.buffer(row).get(w.offset(row), q, r * rowBytes, rowBytes);
                }
                ks.unpack(type, q, 0, 4 * blocks);
                fourRows(q, type, rowBytes, blockBytes, blocks, block, x, xOff, ks);
                System.arraycopy(block, 4 * BLOCK, y, yOff + o, n);
            }
        });
    }

    /** Rows {@code q[r * rowBytes ..]} (r < 4) times {@code x[xOff ..]} into {@code block[4 * BLOCK + r]}. */
    private static void fourRows(byte[] q, GgmlType type, int rowBytes, int blockBytes, int blocks, float[] block,
            float[] x, int xOff, KQuantScales ks) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++) {
            for (int r = 0; r < 4; r++) {
                int p = r * rowBytes + k * blockBytes;
                switch (type) {
                    case Q4_K -> VectorDequantize.q4_k(q, p, 1, block, r * BLOCK, ks, r * blocks + k);
                    case Q5_K -> VectorDequantize.q5_k(q, p, 1, block, r * BLOCK, ks, r * blocks + k);
                    default -> VectorDequantize.q6_k(q, p, 1, block, r * BLOCK, ks, r * blocks + k);
                }
            }
            int xs = xOff + k * BLOCK;
            for (int i = 0; i < BLOCK; i += LANES) {
                FloatVector v = FloatVector.fromArray(F, x, xs + i);
                a0 = FloatVector.fromArray(F, block, i).fma(v, a0);
                a1 = FloatVector.fromArray(F, block, BLOCK + i).fma(v, a1);
                a2 = FloatVector.fromArray(F, block, 2 * BLOCK + i).fma(v, a2);
                a3 = FloatVector.fromArray(F, block, 3 * BLOCK + i).fma(v, a3);
            }
        }
        block[4 * BLOCK] = VectorMatmul.laneSum(a0);
        block[4 * BLOCK + 1] = VectorMatmul.laneSum(a1);
        block[4 * BLOCK + 2] = VectorMatmul.laneSum(a2);
        block[4 * BLOCK + 3] = VectorMatmul.laneSum(a3);
    }
}
