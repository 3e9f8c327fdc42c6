package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;

/**
 * A {@link DeviceBuffer} of {@link ElementType#Q8_0} blocks on the Java heap: element {@code i}
 * of the window {@code [offset, offset + size)} is {@code quants[i] * scale(i / 32)}, the scales
 * f16 bit patterns in an array of their own, so that a run of quants loads as one vector. The
 * window starts and ends on block boundaries. A KV cache stored this way takes 34 bytes per 32
 * elements (an f16 cache 64); like {@link CpuHalfBuffer}, only copy, read, write and attention accept it.
 */
final class CpuQ8Buffer extends HeapBuffer {
    static final int BLOCK = ElementType.Q8_0.blockElements();
    final byte[] quants;
    final short[] scales;

    CpuQ8Buffer(byte[] quants, short[] scales, int offset, int size) {
        super(quants.length, offset, size, "q8_0 elements");
        if (offset % BLOCK != 0 || size % BLOCK != 0) {
            throw new IllegalArgumentException("a q8_0 buffer is cut at blocks of " + BLOCK + " elements, not at ["
                    + offset + ", " + offset + " + " + size + ")");
        }
        this.quants = quants;
        this.scales = scales;
    }

    /** A zeroed buffer of {@code size} elements, a multiple of {@link #BLOCK}. */
    static CpuQ8Buffer allocate(int size) {
        if (size < 0 || size % BLOCK != 0) {
            throw new IllegalArgumentException("a q8_0 buffer holds whole blocks of " + BLOCK + " elements, not "
                    + size);
        }
        return new CpuQ8Buffer(new byte[size], new short[size / BLOCK], 0, size);
    }

    @Override
    public ElementType type() {
        return ElementType.Q8_0;
    }

    @Override
    public CpuQ8Buffer slice(int offset, int size) {
        checkSlice(offset, size);
        return new CpuQ8Buffer(quants, scales, this.offset + offset, size);
    }

    @Override
    public String toString() {
        return "CpuQ8Buffer[" + size() + " q8_0]";
    }
}
