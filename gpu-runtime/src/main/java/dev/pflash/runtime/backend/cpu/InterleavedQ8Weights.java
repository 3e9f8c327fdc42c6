package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Float16;
import dev.pflash.runtime.gguf.GgmlType;
import java.nio.ByteBuffer;

/**
 * A Q8_0 matrix repacked on the heap for {@link InterleavedQ8Matmul}: rows in groups of
 * {@link #GROUP} (the lanes of a float vector), each group's quants stored column by column, so
 * that one load of {@link #GROUP} bytes holds quant k of every row of the group, widened into one
 * float lane per row. The block scales are kept as floats, {@link #GROUP} per block (one vector).
 * The groups are padded with zero rows to a multiple of {@link #UNIT_GROUPS}, so that every kernel
 * call covers whole units.
 *
 * <p>The values are the file's: quant times f16 scale, exactly the float {@code Dequantize} gives
 * (an 8-bit integer times an f16 fits a float's mantissa).
 */
final class InterleavedQ8Weights {
    /** Rows per group: one lane each. */
    static final int GROUP = VectorMatmul.LANES;
    /** Groups per kernel unit: four independent chains of multiply-adds for the one-token kernel. */
    static final int UNIT_GROUPS = 4;
    private static final int BLOCK = 32;
    private static final int BLOCK_BYTES = 34;

    private final int rows;
    private final int cols;
    private final int blocks;
    /** Per group: quant k of row r at {@code k*GROUP + r}. */
    private final byte[][] quants;
    /** Per group: the scale of block b of row r at {@code b*GROUP + r}. */
    private final float[][] scales;

    private InterleavedQ8Weights(int rows, int cols, byte[][] quants, float[][] scales) {
        this.rows = rows;
        this.cols = cols;
        this.blocks = cols / BLOCK;
        this.quants = quants;
        this.scales = scales;
    }

    /** Heap bytes the repacked form of a {@code rows x cols} Q8_0 matrix takes. */
    static long heapBytes(long rows, int cols) {
        long paddedRows = paddedGroups(rows) * (long) GROUP;
        return paddedRows * cols + paddedRows * (cols / BLOCK) * Float.BYTES;
    }

    private static long paddedGroups(long rows) {
        long groups = (rows + GROUP - 1) / GROUP;
        return (groups + UNIT_GROUPS - 1) / UNIT_GROUPS * UNIT_GROUPS;
    }

    /** Repacks {@code w} (Q8_0), its groups spread over {@code pool}. */
    static InterleavedQ8Weights repack(CpuThreadPool pool, CpuWeightMatrix w) {
        if (w.type() != GgmlType.Q8_0) {
            throw new IllegalArgumentException(w.name() + ": only Q8_0 matrices are repacked, not " + w.type());
        }
        int rows = w.rows();
        int cols = w.cols();
        int groups = Math.toIntExact(paddedGroups(rows));
        int blocks = cols / BLOCK;
        byte[][] quants = new byte[groups][];
        float[][] scales = new float[groups][];
        pool.forRange(groups, pool.grain(groups, 1), (from, to) -> {
            for (int g = from; g < to; g++) {
                byte[] q = new byte[GROUP * cols];
                float[] s = new float[GROUP * blocks];
                for (int r = 0; r < GROUP && g * GROUP + r < rows; r++) {
                    int row = g * GROUP + r;
                    ByteBuffer buf = w.buffer(row);
                    int off = w.offset(row);
                    for (int b = 0; b < blocks; b++, off += BLOCK_BYTES) {
                        s[b * GROUP + r] = Float16.toFloat(buf.getShort(off));
                        int k0 = b * BLOCK;
                        for (int j = 0; j < BLOCK; j++) {
                            q[(k0 + j) * GROUP + r] = buf.get(off + 2 + j);
                        }
                    }
                }
                quants[g] = q;
                scales[g] = s;
            }
        });
        return new InterleavedQ8Weights(rows, cols, quants, scales);
    }

    int rows() {
        return rows;
    }

    int cols() {
        return cols;
    }

    int blocks() {
        return blocks;
    }

    /** Groups, padding included: a multiple of {@link #UNIT_GROUPS}. */
    int groups() {
        return quants.length;
    }

    byte[] quants(int group) {
        return quants[group];
    }

    float[] scales(int group) {
        return scales[group];
    }
}
