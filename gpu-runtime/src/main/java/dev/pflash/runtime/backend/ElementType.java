package dev.pflash.runtime.backend;

import java.util.Locale;

/**
 * How a buffer stores its elements. Activations are always {@link #F32}; a KV cache may be stored
 * as {@link #F16} to halve its memory, since attention rounds keys and values to half precision
 * on the GPU anyway. Ops address every buffer in elements, whatever its type.
 */
public enum ElementType {
    F32(Float.BYTES),
    F16(2);

    private final int bytes;

    ElementType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes one element takes. */
    public int bytes() {
        return bytes;
    }

    /** The type named {@code name} ("f16", "F32", ...), or an error that lists the choices. */
    public static ElementType parse(String name) {
        for (ElementType t : values()) {
            if (t.name().equalsIgnoreCase(name.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown element type '" + name + "'; supported: "
                + java.util.Arrays.stream(values()).map(t -> t.name().toLowerCase(Locale.ROOT)).toList());
    }
}
