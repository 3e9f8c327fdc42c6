package dev.pflash.runtime.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Exact binary16 to float on the Vector API, shared by the f16 KV cache ({@link VectorAttentionKernel})
 * and f16 weights ({@link VectorDequantize}): the 15 magnitude bits shifted into float position and
 * multiplied by 2^112 rebias the exponent and normalize subnormals in one exact product; infinities
 * and NaNs (exponent all ones) get the float's all-ones exponent instead; then the sign.
 *
 * <p>And float to binary16 for the f16 KV cache, bit for bit {@link HalfFloats#fromFloat}
 * (saturating, ties to even), without branches: a normal result rebiases the exponent and rounds
 * by adding {@code 0xFFF} plus the lowest kept bit before the shift; a subnormal or zero result is
 * the low bits of {@code |f| + 0.5f}, whose float addition rounds to nearest even at exactly the
 * binary16 subnormal step (the trick of Giesen's {@code float_to_half_fast3_rtne}); NaN keeps its
 * top payload bits with the quiet bit set.
 */
final class VectorHalfFloats {
    /** Scales a binary16 exponent, placed in float bits, to the float exponent: 2^(127 - 15). */
    private static final float HALF_TO_FLOAT_SCALE = 0x1p112f;
    /** Bits of 0.5f: adding it aligns a float below 2^-14 so that its binary16 subnormal bits are the lowest ten. */
    private static final int SUBNORMAL_MAGIC = 126 << 23;
    /** Float bits of the smallest normal binary16, 2^-14. */
    private static final int SMALLEST_NORMAL = 113 << 23;
    /** Rebiases a float exponent, in place, to a binary16 one: (15 - 127) << 23. */
    private static final int REBIAS = (15 - 127) << 23;

    private VectorHalfFloats() {
    }

    /** The floats of the binary16 bit patterns in the low 16 bits of {@code h}'s lanes; higher bits are ignored. */
    static FloatVector toFloat(IntVector h) {
        IntVector magnitude = h.and(0x7FFF);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(HALF_TO_FLOAT_SCALE).reinterpretAsInts();
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector bits = finite.blend(shifted.or(0x7F800000), special).or(sign);
        return bits.reinterpretAsFloats();
    }

    /**
     * The binary16 bit patterns, in the low 16 bits of the lanes (higher bits unspecified), of
     * {@code f} saturated to +-{@link HalfFloats#MAX}: the same bits as {@link HalfFloats#fromFloat}.
     */
    static IntVector fromFloat(FloatVector f) {
        IntVector raw = f.reinterpretAsInts();
        IntVector rawAbs = raw.and(0x7FFFFFFF);
        IntVector abs = f.max(-HalfFloats.MAX).min(HalfFloats.MAX).reinterpretAsInts().and(0x7FFFFFFF);
        IntVector odd = abs.lanewise(VectorOperators.LSHR, 13).and(1);
        IntVector normal = abs.add(REBIAS + 0xFFF).add(odd).lanewise(VectorOperators.LSHR, 13);
        IntVector subnormal = abs.reinterpretAsFloats().add(Float.intBitsToFloat(SUBNORMAL_MAGIC))
                .reinterpretAsInts().sub(SUBNORMAL_MAGIC);
        IntVector nan = rawAbs.lanewise(VectorOperators.LSHR, 13).and(0x3FF).or(0x7E00);
        IntVector h = normal.blend(subnormal, abs.compare(VectorOperators.LT, SMALLEST_NORMAL))
                .blend(nan, rawAbs.compare(VectorOperators.GT, 0x7F800000));
        return h.or(raw.lanewise(VectorOperators.LSHR, 16).and(0x8000));
    }
}
