package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;

/**
 * A {@link DeviceBuffer} of binary16 values on the Java heap: a window {@code [offset, offset + size)}
 * of a short array, each element an f16 bit pattern. A KV cache stored this way takes half the
 * memory of {@link CpuBuffer}; only copy, read, write and attention accept it.
 */
final class CpuHalfBuffer implements DeviceBuffer {
    final short[] data;
    final int offset;
    private final int size;

    CpuHalfBuffer(short[] data, int offset, int size) {
        if (offset < 0 || size < 0 || offset > data.length - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + data.length + " f16 values");
        }
        this.data = data;
        this.offset = offset;
        this.size = size;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public ElementType type() {
        return ElementType.F16;
    }

    @Override
    public CpuHalfBuffer slice(int offset, int size) {
        if (offset < 0 || size < 0 || offset > this.size - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + this.size + " f16 values");
        }
        return new CpuHalfBuffer(data, this.offset + offset, size);
    }

    /** Heap memory is reclaimed by the garbage collector once the buffer is unreachable. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "CpuHalfBuffer[" + size + " f16]";
    }
}
