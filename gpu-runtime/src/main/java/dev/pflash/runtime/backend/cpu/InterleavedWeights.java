package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.GgmlType;
import java.util.Arrays;

/**
 * A quantized matrix (Q8_0, Q4_0, Q4_K, Q5_K or Q6_K) repacked on the heap for
 * {@link InterleavedMatmul}: rows in groups of {@link #GROUP} (the lanes of a float vector), each
 * group's quants stored column by column, so that one load of {@link #GROUP} bytes holds quant k
 * of every row of the group, widened into one float lane per row. Q8_0, Q5_K and Q6_K keep a
 * signed byte per quant; the 4-bit types (Q4_0, Q4_K) keep two per byte, quant {@code 32b + l} of
 * sub-block b in the low nibble and {@code 32b + 16 + l} in the high one ({@link #spanAt},
 * {@link #spanNibble}), so a byte load serves two spans of 16. Each sub-block (32 values; 16 for
 * Q6_K) has a float scale and a float min per row, {@link #GROUP} of each side by side (one
 * vector), and weight k is {@code fma(quant, scale, -min)}. The groups are padded with zero rows to
 * a multiple of {@link #UNIT_GROUPS}, so that every kernel call covers whole units.
 *
 * <p>The weights are exactly the floats of {@code Dequantize}. For Q8_0 and Q6_K the quant is the
 * file's integer (less 32 for Q6_K), the scale the reference's factor and the min -0, so the fused
 * multiply-add rounds the one product the reference rounds. Q4_0's quant is the file's nibble and
 * its min 8 times the scale: {@code fma(q, d, -8d)} rounds {@code (q - 8) * d} once, as the
 * reference does. For Q4_K and Q5_K the reference rounds {@code scale * q} and then
 * {@code scale * q - min}; the product of a 4- or 5-bit integer and a scale (an f16 times a 6-bit
 * integer) needs at most 22 bits and is exact in a float, so the one rounding of the fused
 * multiply-add is the reference's second. Types without mins share one array of -0 instead of a
 * copy per group.
 *
 * <p>Heap against the file's bytes: Q8_0 1.06x, Q4_0 and Q4_K 1.33x (half a byte per weight, 8
 * bytes of scale and min per 32), Q6_K 1.52x, Q5_K 1.82x. Nibbles against a byte per quant: Q4_K_M
 * decode of a Qwen3-0.6B shape 5-8% faster on one sequence, 10% on eight, with 40% less heap.
 */
final class InterleavedWeights {
    /** Rows per group: one lane each. */
    static final int GROUP = VectorMatmul.LANES;
    /** Groups per kernel unit: four independent chains of multiply-adds for the one-token kernel. */
    static final int UNIT_GROUPS = 4;
    /** Values the kernels take per sub-block scale load: the smallest sub-block. */
    static final int SPAN = 16;
    private static final int K_BLOCK = 256;

    private final int rows;
    private final int cols;
    private final int subBlock;
    /** Whether two quants share a byte (Q4_0, Q4_K): see {@link #spanAt}. */
    private final boolean nibbles;
    /** Per group: quant k of row r at {@code k*GROUP + r}. */
    private final byte[][] quants;
    /** Per group: the scale of sub-block b of row r at {@code b*GROUP + r}. */
    private final float[][] scales;
    /** Per group: minus the min of sub-block b of row r at {@code b*GROUP + r}. */
    private final float[][] negMins;

    private InterleavedWeights(int rows, int cols, int subBlock, boolean nibbles, byte[][] quants,
            float[][] scales, float[][] negMins) {
        this.rows = rows;
        this.cols = cols;
        this.subBlock = subBlock;
        this.nibbles = nibbles;
        this.quants = quants;
        this.scales = scales;
        this.negMins = negMins;
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

    private static boolean nibbles(GgmlType type) {
        return type == GgmlType.Q4_K || type == GgmlType.Q4_0;
    }

    /** Heap bytes the repacked form of a {@code rows x cols} matrix of {@code type} takes. */
    static long heapBytes(GgmlType type, long rows, int cols) {
        long paddedRows = paddedGroups(rows) * (long) GROUP;
        long subBlocks = cols / subBlock(type);
        long quantBytes = nibbles(type) ? paddedRows * cols / 2 : paddedRows * cols;
        return quantBytes + paddedRows * subBlocks * Float.BYTES * (hasMins(type) ? 2 : 1);
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
        int sub = subBlock(type);
        int subBlocks = cols / sub;
        int groups = Math.toIntExact(paddedGroups(rows));
        int rowBytes = Math.toIntExact(type.byteSize(cols));
        boolean nibbles = nibbles(type);
        byte[][] quants = new byte[groups][];
        float[][] scales = new float[groups][];
        float[][] negMins = new float[groups][];
        float[] noMins = new float[GROUP * subBlocks];
        Arrays.fill(noMins, -0f);
        pool.forRange(groups, pool.grain(groups, 1), (from, to) -> {
            byte[] src = new byte[rowBytes];
            byte[] rowQuants = new byte[cols];
            float[] rowScales = new float[subBlocks];
            float[] rowNegMins = new float[subBlocks];
            for (int g = from; g < to; g++) {
                byte[] q = new byte[nibbles ? GROUP * cols / 2 : GROUP * cols];
                float[] s = new float[GROUP * subBlocks];
                float[] m = hasMins(type) ? new float[GROUP * subBlocks] : noMins;
                for (int r = 0; r < GROUP && g * GROUP + r < rows; r++) {
                    int row = g * GROUP + r;
                    w.buffer(row).get(w.offset(row), src, 0, rowBytes);
                    split(type, src, cols, rowQuants, rowScales, rowNegMins);
                    if (nibbles) {
                        for (int k = 0; k < cols; k += 32) {
                            for (int l = 0; l < 16; l++) {
                                q[(k / 2 + l) * GROUP + r] = (byte) (rowQuants[k + l] | rowQuants[k + 16 + l] << 4);
                            }
                        }
                    } else {
                        for (int k = 0; k < cols; k++) {
                            q[k * GROUP + r] = rowQuants[k];
                        }
                    }
                    for (int b = 0; b < subBlocks; b++) {
                        s[b * GROUP + r] = rowScales[b];
                        if (m != noMins) {
                            m[b * GROUP + r] = rowNegMins[b];
                        }
                    }
                }
                quants[g] = q;
                scales[g] = s;
                negMins[g] = m;
            }
        });
        return new InterleavedWeights(rows, cols, sub, nibbles, quants, scales, negMins);
    }

    /**
     * Splits a row of {@code type} in the file's layout ({@code src}) into its quants, and each
     * sub-block's scale and minus its min, as the reference dequantization forms them (see the
     * class comment).
     */
    private static void split(GgmlType type, byte[] src, int cols, byte[] q, float[] scale, float[] negMin) {
        switch (type) {
            case Q8_0 -> {
                for (int b = 0, p = 0; b < cols / 32; b++, p += 34) {
                    scale[b] = VectorDequantize.f16(src, p);
                    System.arraycopy(src, p + 2, q, 32 * b, 32);
                }
            }
            case Q4_0 -> {
                for (int b = 0, p = 0; b < cols / 32; b++, p += 18) {
                    scale[b] = VectorDequantize.f16(src, p);
                    negMin[b] = -8 * scale[b];
                    for (int j = 0; j < 16; j++) {
                        int v = src[p + 2 + j] & 0xFF;
                        q[32 * b + j] = (byte) (v & 0x0F);
                        q[32 * b + 16 + j] = (byte) (v >>> 4);
                    }
                }
            }
            case Q4_K, Q5_K -> splitK45(type == GgmlType.Q5_K, src, cols, q, scale, negMin);
            default -> splitK6(src, cols, q, scale);
        }
    }

    /** Q4_K (d, dmin, scales[12], qs[128]) or Q5_K (qh[32] before qs): eight sub-blocks of 32 per block. */
    private static void splitK45(boolean fiveBits, byte[] src, int cols, byte[] q, float[] scale, float[] negMin) {
        int blockBytes = fiveBits ? 176 : 144;
        for (int k = 0, p = 0; k < cols / K_BLOCK; k++, p += blockBytes) {
            float d = VectorDequantize.f16(src, p);
            float dmin = VectorDequantize.f16(src, p + 2);
            for (int j = 0; j < 8; j++) {
                scale[8 * k + j] = d * kScale(src, p + 4, j, false);
                negMin[8 * k + j] = -(dmin * kScale(src, p + 4, j, true));
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

    /** The 6-bit scale ({@code min} false) or min of sub-block {@code j} of the 12 bytes at {@code s} (get_scale_min_k4). */
    private static int kScale(byte[] src, int s, int j, boolean min) {
        int off = min ? 4 : 0;
        if (j < 4) {
            return src[s + j + off] & 63;
        }
        int lo = src[s + j + 4] & 0xFF;
        return (min ? lo >>> 4 : lo & 0x0F) | (((src[s + j - 4 + off] & 0xFF) >>> 6) << 4);
    }

    /** Q6_K (ql[128], qh[64], scales:int8[16], d): sixteen sub-blocks of 16 per block, quants less 32. */
    private static void splitK6(byte[] src, int cols, byte[] q, float[] scale) {
        for (int k = 0, p = 0; k < cols / K_BLOCK; k++, p += 210) {
            float d = VectorDequantize.f16(src, p + 208);
            for (int j = 0; j < 16; j++) {
                scale[16 * k + j] = d * src[p + 192 + j];
            }
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

    /** Byte offset, in a group's quants, of the first quant of span {@code h} (values {@code h*SPAN ..}). */
    int spanAt(int h) {
        return (nibbles ? h >> 1 : h) * SPAN * GROUP;
    }

    /** How the quants of span {@code h} are held: -1 a byte each, 0 or 4 the low or high nibble of a byte. */
    int spanNibble(int h) {
        return nibbles ? (h & 1) * 4 : -1;
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

    float[] scales(int group) {
        return scales[group];
    }

    float[] negMins(int group) {
        return negMins[group];
    }
}
