package dev.pflash.runtime.backend;

/**
 * Head layout of grouped-query attention: {@code heads} query heads share {@code kvHeads} key/value
 * heads in contiguous groups (query head {@code j} reads kv head {@code j / (heads / kvHeads)}),
 * each {@code headDim} wide; scores are {@code scale * q.k}.
 */
public record AttentionShape(int heads, int kvHeads, int headDim, float scale) {
    public AttentionShape {
        if (heads <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("attention heads, kv heads and head dim must be positive, got "
                    + heads + ", " + kvHeads + ", " + headDim);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot be grouped over " + kvHeads + " kv heads");
        }
    }

    /** Query heads per kv head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** Floats of one token's queries. */
    public int queryDim() {
        return heads * headDim;
    }

    /** Floats of one token's keys (or values). */
    public int kvDim() {
        return kvHeads * headDim;
    }
}
