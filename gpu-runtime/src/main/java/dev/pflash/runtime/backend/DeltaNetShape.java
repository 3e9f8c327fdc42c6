package dev.pflash.runtime.backend;

/**
 * Head layout of a Gated DeltaNet layer (QWEN35-HYBRID.md): {@code keyHeads} query/key heads of
 * {@code keyDim} and {@code valueHeads} value heads of {@code valueDim}; value head {@code h}
 * reads key head {@code h mod keyHeads}. A token's convolved row holds its queries, keys and
 * values side by side: {@code [q (Hk*dk) | k (Hk*dk) | v (Hv*dv)]}. {@code eps} bounds the norm
 * that q and k are divided by.
 */
public record DeltaNetShape(int keyHeads, int valueHeads, int keyDim, int valueDim, float eps) {
    /**
     * Tokens per chunk of the chunked (WY) form of {@link Backend#deltaNet}, counted from the first
     * token of each call, on every backend: where a sequence's chunks fall must not depend on the
     * backend, or on where a prefix cache hit let it resume.
     */
    public static final int CHUNK = 64;

    public DeltaNetShape {
        if (keyHeads <= 0 || valueHeads <= 0 || keyDim <= 0 || valueDim <= 0) {
            throw new IllegalArgumentException("DeltaNet heads and head dims must be positive, got " + keyHeads + " x "
                    + keyDim + " key, " + valueHeads + " x " + valueDim + " value");
        }
        if (valueHeads % keyHeads != 0) {
            throw new IllegalArgumentException(valueHeads + " DeltaNet value heads are not a multiple of " + keyHeads
                    + " key heads");
        }
    }

    /** Floats of one token's queries (or keys). */
    public int keyWidth() {
        return keyHeads * keyDim;
    }

    /** Floats of one token's values, and of the layer's output before its projection. */
    public int valueWidth() {
        return valueHeads * valueDim;
    }

    /** Channels of the convolution: queries, keys and values of one token. */
    public int channels() {
        return 2 * keyWidth() + valueWidth();
    }

    /** Floats of the recurrent state: one {@code keyDim x valueDim} matrix per value head. */
    public int stateSize() {
        return valueHeads * keyDim * valueDim;
    }
}
