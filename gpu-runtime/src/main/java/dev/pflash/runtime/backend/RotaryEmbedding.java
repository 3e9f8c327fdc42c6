package dev.pflash.runtime.backend;

import java.util.Arrays;

/**
 * The rotary position embedding of a model: pair style, the number of leading head dimensions
 * rotated, and the angular frequency of each rotated pair; pair {@code i} of a token at position
 * {@code p} turns by {@code p * inverseFrequency(i)} radians.
 */
public final class RotaryEmbedding {
    private final RopeStyle style;
    private final int dims;
    private final double[] inverseFrequencies;

    private RotaryEmbedding(RopeStyle style, int dims, double[] inverseFrequencies) {
        this.style = style;
        this.dims = dims;
        this.inverseFrequencies = inverseFrequencies;
    }

    /**
     * Frequencies {@code base^(-2i/dims) / divisors[i]} for {@code i < dims/2}.
     *
     * @param divisors per-pair frequency divisors (llama's {@code rope_freqs.weight}), or null for none
     */
    public static RotaryEmbedding of(RopeStyle style, int dims, double base, float[] divisors) {
        if (dims <= 0 || dims % 2 != 0) {
            throw new IllegalArgumentException("RoPE dimension count must be positive and even, got " + dims);
        }
        if (!(base > 0)) {
            throw new IllegalArgumentException("RoPE base must be positive, got " + base);
        }
        if (divisors != null && divisors.length != dims / 2) {
            throw new IllegalArgumentException("RoPE frequency divisors: " + divisors.length + " values, expected "
                    + dims / 2 + " (one per rotated pair)");
        }
        double[] inv = new double[dims / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = Math.pow(base, -2.0 * i / dims) / (divisors == null ? 1.0 : divisors[i]);
        }
        return new RotaryEmbedding(style, dims, inv);
    }

    public RopeStyle style() {
        return style;
    }

    /** Leading dimensions of each head that are rotated; the rest pass through unchanged. */
    public int dims() {
        return dims;
    }

    /** Radians per position of pair {@code i}, {@code 0 <= i < dims/2}. */
    public double inverseFrequency(int i) {
        return inverseFrequencies[i];
    }

    @Override
    public String toString() {
        return "RotaryEmbedding[" + style + ", dims=" + dims + ", inverseFrequencies="
                + Arrays.toString(inverseFrequencies) + "]";
    }
}
