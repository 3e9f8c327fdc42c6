package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;

/** A {@link DeviceBuffer} on the Java heap: a window {@code [offset, offset + size)} of a float array. */
final class CpuBuffer implements DeviceBuffer {
    final float[] data;
    final int offset;
    private final int size;

    CpuBuffer(float[] data, int offset, int size) {
        if (offset < 0 || size < 0 || offset > data.length - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + data.length + " floats");
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
        return ElementType.F32;
    }

    @Override
    public CpuBuffer slice(int offset, int size) {
        if (offset < 0 || size < 0 || offset > this.size - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + this.size + " floats");
        }
        return new CpuBuffer(data, this.offset + offset, size);
    }

    /** Heap memory is reclaimed by the garbage collector once the buffer is unreachable. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "CpuBuffer[" + size + " floats]";
    }
}
