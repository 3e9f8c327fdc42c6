package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;

/**
 * What the CPU backend's buffers share: a window {@code [offset, offset + size)} of a Java array,
 * checked against the array (or, for a slice, the parent window) when made. Subclasses hold the
 * array, whose element type is the buffer's {@link #type()}.
 */
abstract class HeapBuffer implements DeviceBuffer {
    final int offset;
    private final int size;
    private final String unit;

    /** {@code unit} names the elements in messages, e.g. "floats". */
    HeapBuffer(int length, int offset, int size, String unit) {
        checkWindow(length, offset, size, unit);
        this.offset = offset;
        this.size = size;
        this.unit = unit;
    }

    @Override
    public final int size() {
        return size;
    }

    @Override
    public abstract HeapBuffer slice(int offset, int size);

    /** Throws unless {@code [offset, offset + size)} lies within this buffer. */
    final void checkSlice(int offset, int size) {
        checkWindow(this.size, offset, size, unit);
    }

    private static void checkWindow(int length, int offset, int size, String unit) {
        if (offset < 0 || size < 0 || offset > length - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + length + " " + unit);
        }
    }

    /** Heap memory is reclaimed by the garbage collector once the buffer is unreachable. */
    @Override
    public final void close() {
    }
}
