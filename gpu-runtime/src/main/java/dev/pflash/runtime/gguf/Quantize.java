package dev.pflash.runtime.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Float values to the block formats of {@link GgmlType} (for writing demo models and for tests),
 * and random valid blocks (for synthetic models, whose weight values do not matter).
 *
 * <p>Stated errors of {@link #quantize}: F32 exact; F16/BF16 round to nearest even; Q8_0 and Q4_0
 * are llama.cpp's reference quantizers, byte for byte (Q8_0: at most half a step of d = amax/127
 * plus the f16 rounding of d; Q4_0: at most one step |d| = amax/8, the one step at the end
 * opposite the largest element being clipped); Q4_K, Q5_K and Q6_K use a simple scale choice
 * that never clips, so every value is within half a step (the sub-block's d * scale) of its
 * dequantized value. llama.cpp's K-quantizers search scales for lower RMS error; any valid
 * bytes dequantize the same way.
 */
public final class Quantize {
    private static final int FLOAT_TABLE_BITS = 12;

    private Quantize() {
    }

    /** {@code values} (a whole number of blocks of {@code t}) as a new little-endian buffer of blocks. */
    public static ByteBuffer quantize(GgmlType t, float[] values) {
        long bytes = t.byteSize(values.length);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        quantizeInto(t, values, 0, values.length, out, 0);
        return out;
    }

    /**
     * Quantizes {@code src[srcOffset .. srcOffset + n)} ({@code n} a multiple of the block size)
     * into {@code dst} from byte {@code dstOffset}, with absolute puts in little-endian order.
     */
    public static void quantizeInto(GgmlType t, float[] src, int srcOffset, int n, ByteBuffer dst, int dstOffset) {
        if (n < 0 || n % t.blockSize() != 0) {
            throw new IllegalArgumentException(n + " values is not a whole number of " + t + " blocks of "
                    + t.blockSize());
        }
        ByteBuffer b = littleEndian(dst);
        int blocks = n / t.blockSize();
        switch (t) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    b.putFloat(dstOffset + 4 * i, src[srcOffset + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    b.putShort(dstOffset + 2 * i, Float16.fromFloat(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    b.putShort(dstOffset + 2 * i, Float16.floatToBf16(src[srcOffset + i]));
                }
            }
            case Q8_0 -> {
                for (int k = 0; k < blocks; k++) {
                    q8_0(src, srcOffset + 32 * k, b, dstOffset + 34 * k);
                }
            }
            case Q4_0 -> {
                for (int k = 0; k < blocks; k++) {
                    q4_0(src, srcOffset + 32 * k, b, dstOffset + 18 * k);
                }
            }
            case Q4_K -> {
                for (int k = 0; k < blocks; k++) {
                    kWithMin(src, srcOffset + 256 * k, b, dstOffset + 144 * k, 15);
                }
            }
            case Q5_K -> {
                for (int k = 0; k < blocks; k++) {
                    kWithMin(src, srcOffset + 256 * k, b, dstOffset + 176 * k, 31);
                }
            }
            case Q6_K -> {
                for (int k = 0; k < blocks; k++) {
                    q6_k(src, srcOffset + 256 * k, b, dstOffset + 210 * k);
                }
            }
        }
    }

    /** quantize_row_q8_0_ref: d = amax/127, q = round(x/d) with ties away from zero. */
    private static void q8_0(float[] x, int xo, ByteBuffer b, int o) {
        float amax = 0;
        for (int i = 0; i < 32; i++) {
            amax = Math.max(amax, Math.abs(x[xo + i]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        b.putShort(o, Float16.fromFloat(d));
        for (int i = 0; i < 32; i++) {
            b.put(o + 2 + i, (byte) roundHalfAway(x[xo + i] * id));
        }
    }

    /** quantize_row_q4_0_ref: m = the element of largest magnitude, d = m/-8, q = min(15, trunc(x/d + 8.5)). */
    private static void q4_0(float[] x, int xo, ByteBuffer b, int o) {
        float amax = 0;
        float max = 0;
        for (int i = 0; i < 32; i++) {
            float v = x[xo + i];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1 / d : 0;
        b.putShort(o, Float16.fromFloat(d));
        for (int j = 0; j < 16; j++) {
            int q0 = Math.min(15, (int) (x[xo + j] * id + 8.5f));
            int q1 = Math.min(15, (int) (x[xo + 16 + j] * id + 8.5f));
            b.put(o + 2 + j, (byte) (q0 | (q1 << 4)));
        }
    }

    /**
     * Q4_K ({@code nmax} 15) or Q5_K ({@code nmax} 31). Each sub-block of 32 gets an offset
     * {@code m = -min(0, min x)} and a step covering {@code max x + m}; mins and then scales are
     * rounded up to their 6-bit grids, so that no value is clipped.
     */
    private static void kWithMin(float[] x, int xo, ByteBuffer b, int o, int nmax) {
        float[] offset = new float[8];
        float[] top = new float[8];
        float maxOffset = 0;
        for (int j = 0; j < 8; j++) {
            float lo = 0;
            float hi = -Float.MAX_VALUE;
            for (int i = 0; i < 32; i++) {
                float v = x[xo + 32 * j + i];
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            offset[j] = -lo;
            top[j] = hi;
            maxOffset = Math.max(maxOffset, offset[j]);
        }
        short dminBits = Float16.atLeast(maxOffset / 63);
        float dmin = Float16.toFloat(dminBits);
        int[] mn = new int[8];
        float[] need = new float[8];
        float maxNeed = 0;
        for (int j = 0; j < 8; j++) {
            mn[j] = dmin == 0 ? 0 : Math.min(63, (int) Math.ceil(offset[j] / dmin));
            need[j] = Math.max(0, (top[j] + dmin * mn[j]) / nmax);
            maxNeed = Math.max(maxNeed, need[j]);
        }
        short dBits = Float16.atLeast(maxNeed / 63);
        float d = Float16.toFloat(dBits);
        int[] sc = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = d == 0 ? 0 : Math.min(63, (int) Math.ceil(need[j] / d));
        }
        b.putShort(o, dBits);
        b.putShort(o + 2, dminBits);
        for (int k = 0; k < 4; k++) {
            b.put(o + 4 + k, (byte) (sc[k] | ((sc[k + 4] >> 4) << 6)));
            b.put(o + 8 + k, (byte) (mn[k] | ((mn[k + 4] >> 4) << 6)));
            b.put(o + 12 + k, (byte) ((sc[k + 4] & 0x0F) | ((mn[k + 4] & 0x0F) << 4)));
        }
        int[] q = new int[256];
        for (int j = 0; j < 8; j++) {
            float step = d * sc[j];
            float m = dmin * mn[j];
            for (int i = 0; i < 32; i++) {
                int v = step == 0 ? 0 : Math.round((x[xo + 32 * j + i] + m) / step);
                q[32 * j + i] = Math.max(0, Math.min(nmax, v));
            }
        }
        int qs = nmax == 15 ? o + 16 : o + 48;
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * c + l];
                int hi = q[64 * c + 32 + l];
                b.put(qs + 32 * c + l, (byte) ((lo & 0x0F) | ((hi & 0x0F) << 4)));
            }
        }
        if (nmax == 31) {
            for (int l = 0; l < 32; l++) {
                int h = 0;
                for (int c = 0; c < 4; c++) {
                    h |= ((q[64 * c + l] >> 4) & 1) << (2 * c);
                    h |= ((q[64 * c + 32 + l] >> 4) & 1) << (2 * c + 1);
                }
                b.put(o + 16 + l, (byte) h);
            }
        }
    }

    /**
     * Q6_K: each sub-block of 16 needs a step of amax/31.5 so that round(x/step) stays in
     * -32..32 and clipping 32 to 31 costs at most half a step; scales round up on an int8 grid.
     */
    private static void q6_k(float[] x, int xo, ByteBuffer b, int o) {
        float[] need = new float[16];
        float maxNeed = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int i = 0; i < 16; i++) {
                amax = Math.max(amax, Math.abs(x[xo + 16 * j + i]));
            }
            need[j] = amax / 31.5f;
            maxNeed = Math.max(maxNeed, need[j]);
        }
        short dBits = Float16.atLeast(maxNeed / 127);
        float d = Float16.toFloat(dBits);
        int[] sc = new int[16];
        int[] q = new int[256];
        for (int j = 0; j < 16; j++) {
            sc[j] = d == 0 ? 0 : Math.min(127, (int) Math.ceil(need[j] / d));
            float step = d * sc[j];
            for (int i = 0; i < 16; i++) {
                int v = step == 0 ? 0 : Math.round(x[xo + 16 * j + i] / step);
                q[16 * j + i] = Math.max(-32, Math.min(31, v)) + 32;
            }
        }
        for (int half = 0; half < 2; half++) {
            int ql = o + 64 * half;
            int qh = o + 128 + 32 * half;
            int base = 128 * half;
            for (int l = 0; l < 32; l++) {
                int q1 = q[base + l];
                int q2 = q[base + l + 32];
                int q3 = q[base + l + 64];
                int q4 = q[base + l + 96];
                b.put(ql + l, (byte) ((q1 & 0x0F) | ((q3 & 0x0F) << 4)));
                b.put(ql + l + 32, (byte) ((q2 & 0x0F) | ((q4 & 0x0F) << 4)));
                b.put(qh + l, (byte) ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)));
            }
        }
        for (int j = 0; j < 16; j++) {
            b.put(o + 192 + j, (byte) sc[j]);
        }
        b.putShort(o + 208, dBits);
    }

    /**
     * Writes {@code elements} (a multiple of the block size) random but valid elements of type
     * {@code t} at {@code dst}'s position, with absolute puts: {@code dst}'s position, limit and
     * byte order are left as they are, so threads may fill disjoint ranges of one buffer through
     * their own duplicates or slices, each with its own {@code rnd} (see {@link SplittableRandom#split()}).
     * Values are of magnitude about {@code scale}; block scales are finite f16 values and K-quant
     * scales in range.
     */
    public static void fillRandom(GgmlType t, ByteBuffer dst, long elements, SplittableRandom rnd, float scale) {
        if (!(scale > 0) || Float.isInfinite(scale)) {
            throw new IllegalArgumentException("scale must be positive and finite, got " + scale);
        }
        long bytes = t.byteSize(elements);
        if (elements < 0 || bytes > dst.remaining()) {
            throw new IllegalArgumentException(elements + " " + t + " elements need " + bytes + " bytes; the buffer has "
                    + dst.remaining());
        }
        ByteBuffer b = littleEndian(dst);
        int o = dst.position();
        int blocks = (int) (elements / t.blockSize());
        switch (t) {
            case F32 -> randomFloats(b, o, (int) elements, rnd, scale);
            case F16, BF16 -> randomHalves(t, b, o, (int) elements, rnd, scale);
            case Q8_0 -> {
                short[] d = blockScales(scale / 127, rnd);
                for (int k = 0; k < blocks; k++, o += 34) {
                    b.putShort(o, d[rnd.nextInt(d.length)]);
                    putRandomLongs(b, o + 2, 4, rnd);
                }
            }
            case Q4_0 -> {
                short[] d = blockScales(scale / 8, rnd);
                for (int k = 0; k < blocks; k++, o += 18) {
                    b.putShort(o, d[rnd.nextInt(d.length)]);
                    putRandomLongs(b, o + 2, 2, rnd);
                }
            }
            case Q4_K, Q5_K -> {
                // E[scale] = E[min] = 31.5 and E[q] = nmax/2: d = 2 dmin / nmax centres values on zero.
                int nmax = t == GgmlType.Q4_K ? 15 : 31;
                short dmin = finiteF16(scale / 31.5f);
                short d = finiteF16(2 * Float16.toFloat(dmin) / nmax);
                int qh = t == GgmlType.Q4_K ? 0 : 4;
                for (int k = 0; k < blocks; k++, o += t.typeSize()) {
                    b.putShort(o, d);
                    b.putShort(o + 2, dmin);
                    // Every 12-byte pattern decodes to 6-bit scales and mins, all valid.
                    b.putLong(o + 4, rnd.nextLong());
                    b.putInt(o + 12, rnd.nextInt());
                    putRandomLongs(b, o + 16, qh + 16, rnd);
                }
            }
            case Q6_K -> {
                // E|scale| = 64 and E|q - 32| = 16.
                short d = finiteF16(scale / 1024);
                for (int k = 0; k < blocks; k++, o += 210) {
                    putRandomLongs(b, o, 26, rnd);
                    b.putShort(o + 208, d);
                }
            }
        }
    }

    private static void randomFloats(ByteBuffer b, int o, int n, SplittableRandom rnd, float scale) {
        int[] table = new int[1 << FLOAT_TABLE_BITS];
        for (int i = 0; i < table.length; i++) {
            table[i] = Float.floatToRawIntBits(gridValue(i, scale));
        }
        int mask = table.length - 1;
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            long r = rnd.nextLong();
            long lo = table[(int) r & mask] & 0xFFFFFFFFL;
            long hi = table[(int) (r >>> 32) & mask] & 0xFFFFFFFFL;
            b.putLong(o + 4 * i, lo | (hi << 32));
        }
        if (i < n) {
            b.putInt(o + 4 * i, table[rnd.nextInt() & mask]);
        }
    }

    private static void randomHalves(GgmlType t, ByteBuffer b, int o, int n, SplittableRandom rnd, float scale) {
        short[] table = new short[1 << FLOAT_TABLE_BITS];
        for (int i = 0; i < table.length; i++) {
            float v = gridValue(i, scale);
            table[i] = t == GgmlType.F16 ? finiteF16(v) : Float16.floatToBf16(v);
        }
        int mask = table.length - 1;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            long r = rnd.nextLong();
            long v = 0;
            for (int k = 0; k < 4; k++) {
                v |= (table[(int) (r >>> (FLOAT_TABLE_BITS * k)) & mask] & 0xFFFFL) << (16 * k);
            }
            b.putLong(o + 2 * i, v);
        }
        for (; i < n; i++) {
            b.putShort(o + 2 * i, table[rnd.nextInt() & mask]);
        }
    }

    /** Value {@code i} of an even grid over (-scale, scale). */
    private static float gridValue(int i, float scale) {
        return scale * ((2 * i + 1) / (float) (1 << FLOAT_TABLE_BITS) - 1);
    }

    /** Sixteen block scales between 0.75 and 1.25 times {@code d}, so blocks are not all alike. */
    private static short[] blockScales(float d, SplittableRandom rnd) {
        short[] out = new short[16];
        for (int i = 0; i < out.length; i++) {
            out[i] = finiteF16(d * (0.75f + 0.5f * (float) rnd.nextDouble()));
        }
        return out;
    }

    private static void putRandomLongs(ByteBuffer b, int o, int count, SplittableRandom rnd) {
        for (int i = 0; i < count; i++) {
            b.putLong(o + 8 * i, rnd.nextLong());
        }
    }

    /** The f16 nearest to {@code v}, but never infinite. */
    private static short finiteF16(float v) {
        short h = Float16.fromFloat(v);
        return Float.isInfinite(Float16.toFloat(h)) ? (short) ((h & 0x8000) | 0x7BFF) : h;
    }

    /** The smallest f16 not below {@code v} (v >= 0), so that a scale never ends up too small. */
    private static int roundHalfAway(float v) {
        double r = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -r : r);
    }

    private static ByteBuffer littleEndian(ByteBuffer b) {
        return b.order() == ByteOrder.LITTLE_ENDIAN ? b : b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
}
