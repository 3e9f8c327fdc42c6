package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Float16;

/**
 * Float to binary16 and back for f16 buffers, as the {@link dev.pflash.runtime.backend.Backend}
 * contract wants it: to f16 by rounding to nearest even and saturating at +-65504 (a key or value
 * beyond the f16 range keeps its sign and the largest magnitude instead of becoming infinite,
 * which would turn a softmax into NaN); NaN stays NaN. Back to float is exact.
 */
final class HalfFloats {
    /** The largest finite binary16 value. */
    static final float MAX = 65504f;

    private HalfFloats() {
    }

    /** The binary16 nearest to {@code f}, ties to even, saturated to +-{@link #MAX}. */
    static short fromFloat(float f) {
        return Float16.fromFloat(Math.max(-MAX, Math.min(MAX, f)));
    }

    /** {@code dst[dstOffset + i] = fromFloat(src[srcOffset + i])} for {@code i < n}. */
    static void encode(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = fromFloat(src[srcOffset + i]);
        }
    }

    /** {@code dst[dstOffset + i] = } the float value of {@code src[srcOffset + i]}, for {@code i < n}. */
    static void decode(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = Float16.toFloat(src[srcOffset + i]);
        }
    }
}
