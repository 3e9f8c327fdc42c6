package dev.pflash.runtime.backend;

/**
 * An array of floats (stored as {@link #type()}) that lives where its backend computes (Java heap for the CPU, device memory for
 * CUDA). Ops address buffers by handle, so the same forward pass drives every backend; a
 * {@link #slice} is a window onto the same storage, used to address one token's row or one
 * cache range without copying.
 */
public interface DeviceBuffer extends AutoCloseable {
    /** Number of elements this buffer (or slice) covers. */
    int size();

    /** How the elements are stored: {@link ElementType#F32} unless allocated otherwise. */
    ElementType type();

    /** A view of {@code size} floats starting at {@code offset}; it shares storage and is never closed on its own. */
    DeviceBuffer slice(int offset, int size);

    /** Releases the storage of an allocated buffer; closing a slice does nothing. */
    @Override
    void close();
}
