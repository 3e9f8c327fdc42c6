package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;

/**
 * A {@link DeviceBuffer} of binary16 values on the Java heap: a window {@code [offset, offset + size)}
 * of a short array, each element an f16 bit pattern. A KV cache stored this way takes half the
 * memory of {@link CpuBuffer}; only copy, read, write and attention accept it.
 */
final class CpuHalfBuffer extends HeapBuffer {
    final short[] data;

    CpuHalfBuffer(short[] data, int offset, int size) {
        super(data.length, offset, size, "f16 values");
        this.data = data;
    }

    @Override
    public ElementType type() {
        return ElementType.F16;
    }

    @Override
    public CpuHalfBuffer slice(int offset, int size) {
        checkSlice(offset, size);
        return new CpuHalfBuffer(data, this.offset + offset, size);
    }

    @Override
    public String toString() {
        return "CpuHalfBuffer[" + size() + " f16]";
    }
}
