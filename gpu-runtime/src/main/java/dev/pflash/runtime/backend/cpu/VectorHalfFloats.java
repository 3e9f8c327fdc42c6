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
 */
final class VectorHalfFloats {
    /** Scales a binary16 exponent, placed in float bits, to the float exponent: 2^(127 - 15). */
    private static final float HALF_TO_FLOAT_SCALE = 0x1p112f;

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
}
