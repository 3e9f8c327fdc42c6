package dev.pflash.runtime.backend;

import dev.pflash.runtime.gguf.GgmlType;

/**
 * A weight matrix uploaded once to a backend, kept in its stored (possibly quantized) type:
 * {@code rows} rows of {@code cols} elements, row {@code o} holding the weights of output
 * {@code o} (GGUF ne0 = cols, ne1 = rows).
 */
public interface WeightMatrix extends AutoCloseable {
    /** The tensor name, for error messages. */
    String name();

    GgmlType type();

    int rows();

    int cols();

    /** Bytes this matrix occupies in its stored type. */
    long bytes();

    @Override
    void close();
}
