package dev.pflash.runtime.gguf;

/**
 * Conversions between float and the two 16-bit float formats of GGUF tensors: IEEE-754 binary16
 * ("f16": 1 sign, 5 exponent, 10 mantissa bits) and bfloat16 (the top half of a float32).
 * Java 17 has no binary16 support ({@code Float.float16ToFloat} is Java 20), hence this class.
 */
public final class Float16 {
    /** Every binary16 value decoded once: dequantization converts one f16 scale per block. */
    private static final float[] TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < TO_FLOAT.length; h++) {
            TO_FLOAT[h] = decode(h);
        }
    }

    private Float16() {
    }

    /** The float value of the binary16 bit pattern {@code bits}; exact (every f16 is a float). */
    public static float toFloat(short bits) {
        return TO_FLOAT[bits & 0xFFFF];
    }

    /** The smallest binary16 at least {@code v}, for {@code 0 <= v}; infinity past the largest finite one. */
    public static short atLeast(float v) {
        short h = fromFloat(v);
        return toFloat(h) < v ? (short) (h + 1) : h;
    }

    /**
     * The binary16 nearest to {@code f} (ties to even), with gradual underflow to subnormals,
     * overflow to infinity, and NaN kept NaN (payload truncated, quiet bit set).
     */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant == 0 ? 0 : 0x200 | (mant >>> 13)));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            // Below 2^-25 everything rounds to zero; exactly 2^-25 is a tie that goes to even (zero).
            if (e < -10) {
                return (short) sign;
            }
            int m = mant | 0x800000;
            int shift = 14 - e;
            int h = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int half = 1 << (shift - 1);
            if (rem > half || (rem == half && (h & 1) != 0)) {
                h++;
            }
            return (short) (sign | h);
        }
        int h = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        // A carry out of the mantissa correctly bumps the exponent, up to infinity.
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }

    /** The float value of the bfloat16 bit pattern {@code bits}. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** The bfloat16 nearest to {@code f} (ties to even); NaN stays a quiet NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    private static float decode(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
