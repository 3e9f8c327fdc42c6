package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;

/** A {@link DeviceBuffer} on the Java heap: a window {@code [offset, offset + size)} of a float array. */
final class CpuBuffer extends HeapBuffer {
    final float[] data;

    CpuBuffer(float[] data, int offset, int size) {
        super(data.length, offset, size, "floats");
        this.data = data;
    }

    @Override
    public ElementType type() {
        return ElementType.F32;
    }

    @Override
    public CpuBuffer slice(int offset, int size) {
        checkSlice(offset, size);
        return new CpuBuffer(data, this.offset + offset, size);
    }

    @Override
    public String toString() {
        return "CpuBuffer[" + size() + " floats]";
    }
}
