package dev.pflash.runtime.backend;

import java.util.Locale;

/**
 * How a buffer stores its elements. Activations are always {@link #F32}; a KV cache may be stored
 * as {@link #F16} to halve its memory, since attention rounds keys and values to half precision
 * on the GPU anyway, or as {@link #Q8_0} (CPU only) for about a quarter of it: blocks of 32
 * signed bytes sharing one f16 scale, as llama.cpp's {@code q8_0} cache type. Ops address every
 * buffer in elements, whatever its type; a Q8_0 buffer is cut only at block boundaries.
 */
public enum ElementType {
    F32(1, Float.BYTES),
    F16(1, 2),
    Q8_0(32, 34);

    private final int blockElements;
    private final int blockBytes;

    ElementType(int blockElements, int blockBytes) {
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    /** Elements of one block: sizes and offsets into a buffer of this type are multiples of it. */
    public int blockElements() {
        return blockElements;
    }

    /** Bytes that {@code elements} elements take, a multiple of {@link #blockElements()}. */
    public long bytes(long elements) {
        return elements / blockElements * blockBytes;
    }

    /** The name options and messages use, as llama.cpp's do: f32, f16, q8_0. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The type named {@code name} ("f16", "Q8_0", ...), or an error that lists the choices. */
    public static ElementType parse(String name) {
        for (ElementType t : values()) {
            if (t.name().equalsIgnoreCase(name.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown element type '" + name + "'; supported: "
                + java.util.Arrays.stream(values()).map(ElementType::label).toList());
    }
}
