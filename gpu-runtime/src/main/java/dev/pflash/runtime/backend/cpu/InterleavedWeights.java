package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Dequantize;
import dev.pflash.runtime.gguf.GgmlType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A quantized matrix (Q8_0, Q4_0, Q4_K, Q5_K or Q6_K) repacked on the heap for
 * {@link InterleavedMatmul}: rows in groups of {@link #GROUP} (the lanes of a float vector), each
 * group's quants stored column by column, so that one load of {@link #GROUP} bytes holds quant k
 * of every row of the group, widened into one float lane per row. Q8_0, Q5_K and Q6_K keep a
 * signed byte per quant; the 4-bit types (Q4_0, Q4_K) keep two per byte, quant {@code 32b + l} of
 * sub-block b in the low nibble and {@code 32b + 16 + l} in the high one ({@link #spanAt},
 * {@link #spanBits}), so a byte load serves two spans of 16. Each sub-block (32 values; 16 for
 * Q6_K) has a scale and a min per row, {@link #GROUP} of each side by side (one vector), and
 * weight k is {@code fma(quant, scale, -min)}. Q8_0 and Q4_0 store them as floats; the K-quants as
 * the file does, an integer per sub-block times a float per 256 values ({@code d}, {@code dmin}),
 * multiplied out a unit of groups at a time before the unit's multiply-adds ({@link #scales}). The
 * groups are padded with zero rows to a multiple of {@link #UNIT_GROUPS}, so that every kernel call
 * covers whole units.
 *
 * <p>The weights are exactly the floats of {@code Dequantize}. For Q8_0 and Q6_K the quant is the
 * file's integer (less 32 for Q6_K), the scale the reference's factor and the min -0, so the fused
 * multiply-add rounds the one product the reference rounds. Q4_0's quant is the file's nibble and
 * its min 8 times the scale: {@code fma(q, d, -8d)} rounds {@code (q - 8) * d} once, as the
 * reference does. For Q4_K and Q5_K the reference rounds {@code scale * q} and then
 * {@code scale * q - min}; the product of a 4- or 5-bit integer and a scale (an f16 times a 6-bit
 * integer) needs at most 22 bits and is exact in a float, so the one rounding of the fused
 * multiply-add is the reference's second. The scales and mins themselves are products of an f16
 * and a small integer, exact in a float, as in the reference. Types without mins share one array
 * of -0 instead of a copy per group.
 *
 * <p>Heap against the file's bytes: Q8_0 and Q4_K 1.06x, Q6_K 1.31x, Q4_0 1.33x, Q5_K 1.59x.
 * Nibbles against a byte per quant made Q4_K_M decode of a Qwen3-0.6B shape 5-8% faster on one
 * sequence and 10% on eight; integer sub-block scales against floats about 3% (within the noise)
 * and a fifth less heap for Q4_K.
 */
final class InterleavedWeights {
    /** Rows per group: one lane each. */
    static final int GROUP = VectorMatmul.LANES;
    /** Groups per kernel unit: four independent chains of multiply-adds for the one-token kernel. */
    static final int UNIT_GROUPS = 4;
    /** Values the kernels take per sub-block scale load: the smallest sub-block. */
    static final int SPAN = 16;
    private static final int K_BLOCK = 256;
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(GROUP * 8));

    private final int rows;
    private final int cols;
    private final int subBlock;
    /** Whether two quants share a byte (Q4_0, Q4_K): see {@link #spanAt}. */
    private final boolean nibbles;
    /** Per group: quant k of row r at {@code k*GROUP + r} (two per byte for nibbles). */
    private final byte[][] quants;
    /**
     * Per group: the K-quants' integer scale and min of sub-block b of row r at {@code b*GROUP + r};
     * null for types with a float scale per sub-block (Q8_0, Q4_0), and mins for types without.
     */
    private final byte[][] subScales;
    private final byte[][] subMins;
    /**
     * Per group: the float factor of block c of row r at {@code c*GROUP + r}, a block being
     * {@code 1 << blockShift} sub-blocks: the K-quants' d and minus dmin per 256 values; Q8_0's and
     * Q4_0's scale (and Q4_0's -8 times it) per sub-block; for mins where there are none, -0 per
     * sub-block, one array shared by the groups.
     */
    private final float[][] blockScales;
    private final float[][] blockNegMins;
    private final int blockShift;

    private InterleavedWeights(int rows, int cols, GgmlType type, byte[][] quants, byte[][] subScales,
            byte[][] subMins, float[][] blockScales, float[][] blockNegMins) {
        this.rows = rows;
        this.cols = cols;
        this.subBlock = subBlock(type);
        this.nibbles = nibbles(type);
        this.quants = quants;
        this.subScales = subScales;
        this.subMins = subMins;
        this.blockScales = blockScales;
        this.blockNegMins = blockNegMins;
        this.blockShift = Integer.numberOfTrailingZeros(valuesPerBlock(type) / subBlock);
    }

    /** Whether {@link #repack} takes matrices of {@code type}. */
    static boolean handles(GgmlType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    private static int subBlock(GgmlType type) {
        return type == GgmlType.Q6_K ? 16 : 32;
    }

    private static boolean hasMins(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q4_0;
    }

    /** Values per float factor: 256 for the K-quants, whose sub-blocks carry integer scales. */
    private static int valuesPerBlock(GgmlType type) {
        return type.blockSize();
    }

    private static boolean nibbles(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q4_0;
    }

    /** Heap bytes the repacked form of a {@code rows x cols} matrix of {@code type} takes. */
    static long heapBytes(GgmlType type, long rows, int cols) {
        long paddedRows = paddedGroups(rows) * (long) GROUP;
        long quantBytes = nibbles(type) ? paddedRows * cols / 2 : paddedRows * cols;
        long blocks = paddedRows * (cols / valuesPerBlock(type)) * Float.BYTES * (hasMins(type) ? 2 : 1);
        long subBlocks = type.blockSize() > subBlock(type) ? paddedRows * (cols / subBlock(type)) : 0;
        return quantBytes + blocks + subBlocks * (hasMins(type) ? 2 : 1);
    }

    private static long paddedGroups(long rows) {
        long groups = (rows + GROUP - 1) / GROUP;
        return (groups + UNIT_GROUPS - 1) / UNIT_GROUPS * UNIT_GROUPS;
    }

    /** Repacks {@code w} (a type {@link #handles}), its groups spread over {@code pool}. */
    static InterleavedWeights repack(CpuThreadPool pool, CpuWeightMatrix w) {
        GgmlType type = w.type();
        if (!handles(type)) {
            throw new IllegalArgumentException(w.name() + ": " + type + " matrices are not repacked");
        }
        int rows = w.rows();
        int cols = w.cols();
        int subBlocks = cols / subBlock(type);
        int blocks = cols / valuesPerBlock(type);
        boolean integerScales = blocks < subBlocks;
        boolean mins = hasMins(type);
        int groups = Math.toIntExact(paddedGroups(rows));
        int rowBytes = Math.toIntExact(type.byteSize(cols));
        boolean nibbles = nibbles(type);
        byte[][] quants = new byte[groups][];
        byte[][] subScales = new byte[groups][];
        byte[][] subMins = new byte[groups][];
        float[][] blockScales = new float[groups][];
        float[][] blockNegMins = new float[groups][];
        float[] noMins = mins ? null : new float[GROUP * subBlocks];
        if (noMins != null) {
            Arrays.fill(noMins, -0f);
        }
        pool.forRange(groups, pool.grain(groups, 1), (from, to) -> {
            RowParts row = new RowParts(rowBytes, cols, subBlocks, blocks);
            for (int g = from; g < to; g++) {
                byte[] q = new byte[nibbles ? GROUP * cols / 2 : GROUP * cols];
                byte[] sc = integerScales ? new byte[GROUP * subBlocks] : null;
                byte[] mn = integerScales && mins ? new byte[GROUP * subBlocks] : null;
                float[] d = new float[GROUP * blocks];
                float[] dm = mins ? new float[GROUP * blocks] : noMins;
                for (int r = 0; r < GROUP && g * GROUP + r < rows; r++) {
                    int at = g * GROUP + r;
                    w.buffer(at).get(w.offset(at), row.src, 0, rowBytes);
                    split(type, cols, row);
                    if (nibbles) {
                        for (int k = 0; k < cols; k += 32) {
                            for (int l = 0; l < 16; l++) {
                                q[(k / 2 + l) * GROUP + r] = (byte) (row.quants[k + l] | row.quants[k + 16 + l] << 4);
                            }
                        }
                    } else {
                        for (int k = 0; k < cols; k++) {
                            q[k * GROUP + r] = row.quants[k];
                        }
                    }
                    for (int b = 0; sc != null && b < subBlocks; b++) {
                        sc[b * GROUP + r] = row.subScales[b];
                        if (mn != null) {
                            mn[b * GROUP + r] = row.subMins[b];
                        }
                    }
                    for (int c = 0; c < blocks; c++) {
                        d[c * GROUP + r] = row.blockScales[c];
                        if (mins) {
                            dm[c * GROUP + r] = row.blockNegMins[c];
                        }
                    }
                }
                quants[g] = q;
                subScales[g] = sc;
                subMins[g] = mn;
                blockScales[g] = d;
                blockNegMins[g] = dm;
            }
        });
        return new InterleavedWeights(rows, cols, type, quants, subScales, subMins, blockScales, blockNegMins);
    }

    /** One row taken apart by {@link #split}, and the arrays it is taken apart with. */
    private static final class RowParts {
        /** The row's bytes in the file's layout, and the same bytes as a buffer for {@code Dequantize}. */
        final byte[] src;
        final ByteBuffer source;
        final int[] kScales = new int[8];
        final int[] kMins = new int[8];
        final byte[] quants;
        final byte[] subScales;
        final byte[] subMins;
        final float[] blockScales;
        final float[] blockNegMins;

        RowParts(int rowBytes, int cols, int subBlocks, int blocks) {
            src = new byte[rowBytes];
            source = ByteBuffer.wrap(src);
            quants = new byte[cols];
            subScales = new byte[subBlocks];
            subMins = new byte[subBlocks];
            blockScales = new float[blocks];
            blockNegMins = new float[blocks];
        }
    }

    /**
     * Takes a row of {@code type} in the file's layout ({@code row.src}) apart into its quants, its
     * sub-blocks' integer scales and mins (K-quants) and its float factors, from which the kernels
     * form each sub-block's scale and minus its min as the reference does (see the class comment).
     */
    private static void split(GgmlType type, int cols, RowParts row) {
        byte[] src = row.src;
        byte[] q = row.quants;
        switch (type) {
            case Q8_0 -> {
                for (int b = 0, p = 0; b < cols / 32; b++, p += 34) {
                    row.blockScales[b] = VectorDequantize.f16(src, p);
                    System.arraycopy(src, p + 2, q, 32 * b, 32);
                }
            }
            case Q4_0 -> {
                for (int b = 0, p = 0; b < cols / 32; b++, p += 18) {
                    row.blockScales[b] = VectorDequantize.f16(src, p);
                    row.blockNegMins[b] = -8 * row.blockScales[b];
                    for (int j = 0; j < 16; j++) {
                        int v = src[p + 2 + j] & 0xFF;
                        q[32 * b + j] = (byte) (v & 0x0F);
                        q[32 * b + 16 + j] = (byte) (v >>> 4);
                    }
                }
            }
            case Q4_K, Q5_K -> splitK45(type == GgmlType.Q5_K, cols, row);
            default -> splitK6(cols, row);
        }
    }

    /** Q4_K (d, dmin, scales[12], qs[128]) or Q5_K (qh[32] before qs): eight sub-blocks of 32 per block. */
    private static void splitK45(boolean fiveBits, int cols, RowParts row) {
        byte[] src = row.src;
        int blockBytes = fiveBits ? 176 : 144;
        byte[] q = row.quants;
        for (int k = 0, p = 0; k < cols / K_BLOCK; k++, p += blockBytes) {
            row.blockScales[k] = VectorDequantize.f16(src, p);
            row.blockNegMins[k] = -VectorDequantize.f16(src, p + 2);
            Dequantize.kScales(row.source, p + 4, row.kScales, row.kMins);
            for (int j = 0; j < 8; j++) {
                row.subScales[8 * k + j] = (byte) row.kScales[j];
                row.subMins[8 * k + j] = (byte) row.kMins[j];
            }
            int qh = p + 16;
            int qs = fiveBits ? p + 48 : p + 16;
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int v = src[qs + 32 * c + l] & 0xFF;
                    int h = fiveBits ? (src[qh + l] & 0xFF) >>> (2 * c) : 0;
                    q[K_BLOCK * k + 64 * c + l] = (byte) ((v & 0x0F) | ((h & 1) << 4));
                    q[K_BLOCK * k + 64 * c + 32 + l] = (byte) ((v >>> 4) | ((h & 2) << 3));
                }
            }
        }
    }

    /** Q6_K (ql[128], qh[64], scales:int8[16], d): sixteen sub-blocks of 16 per block, quants less 32. */
    private static void splitK6(int cols, RowParts row) {
        byte[] src = row.src;
        byte[] q = row.quants;
        for (int k = 0, p = 0; k < cols / K_BLOCK; k++, p += 210) {
            row.blockScales[k] = VectorDequantize.f16(src, p + 208);
            System.arraycopy(src, p + 192, row.subScales, 16 * k, 16);
            for (int half = 0; half < 2; half++) {
                int ql = p + 64 * half;
                int qh = p + 128 + 32 * half;
                int base = K_BLOCK * k + 128 * half;
                for (int l = 0; l < 32; l++) {
                    int lo0 = src[ql + l] & 0xFF;
                    int lo1 = src[ql + l + 32] & 0xFF;
                    int h = src[qh + l] & 0xFF;
                    q[base + l] = (byte) (((lo0 & 0x0F) | ((h & 3) << 4)) - 32);
                    q[base + l + 32] = (byte) (((lo1 & 0x0F) | (((h >>> 2) & 3) << 4)) - 32);
                    q[base + l + 64] = (byte) (((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
                    q[base + l + 96] = (byte) (((lo1 >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
                }
            }
        }
    }

    int rows() {
        return rows;
    }

    int cols() {
        return cols;
    }

    /** Whether two quants share a byte (Q4_0, Q4_K), else each has its own (Q8_0, Q5_K, Q6_K). */
    boolean nibbles() {
        return nibbles;
    }

    /** Byte offset, in a group's quants, of the first quant of span {@code h} (values {@code h*SPAN ..}). */
    int spanAt(int h) {
        return (nibbles ? h >> 1 : h) * SPAN * GROUP;
    }

    /** Where in its byte a quant of span {@code h} starts: 0, or 4 for a high nibble. */
    int spanBits(int h) {
        return nibbles ? (h & 1) * 4 : 0;
    }

    /** The bits of a quant of span {@code h}, from {@link #spanBits}: all of the (sign-extended) byte, or a nibble. */
    int spanMask(int h) {
        return nibbles ? 0x0F : -1;
    }

    int subBlocks() {
        return cols / subBlock;
    }

    /** Log2 of the spans of {@link #SPAN} values per sub-block. */
    int spanShift() {
        return Integer.numberOfTrailingZeros(subBlock / SPAN);
    }

    /** Groups, padding included: a multiple of {@link #UNIT_GROUPS}. */
    int groups() {
        return quants.length;
    }

    byte[] quants(int group) {
        return quants[group];
    }

    /**
     * Each sub-block's scale for the rows of {@code group}, at {@code b*GROUP + r}: the stored floats
     * of Q8_0 and Q4_0, or for the K-quants the integer scale times its block's d, expanded into
     * {@code room} (the product the reference forms, exact: an f16 times a 6- or 8-bit integer).
     */
    float[] scales(int group, float[] room) {
        return subScales[group] == null ? blockScales[group] : expand(subScales[group], blockScales[group], room);
    }

    /** As {@link #scales}, minus each sub-block's min: -0 for types without mins. */
    float[] negMins(int group, float[] room) {
        if (subMins[group] == null) {
            return blockNegMins[group];
        }
        return expand(subMins[group], blockNegMins[group], room);
    }

    private float[] expand(byte[] sub, float[] block, float[] room) {
        int subBlocks = cols / subBlock;
        for (int b = 0; b < subBlocks; b++) {
            VectorDequantize.widen(ByteVector.fromArray(B, sub, b * GROUP))
                    .mul(FloatVector.fromArray(F, block, (b >> blockShift) * GROUP)).intoArray(room, b * GROUP);
        }
        return room;
    }
}
