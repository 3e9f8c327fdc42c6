package dev.pflash.runtime.backend.cuda;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import jcuda.driver.CUdeviceptr;

/**
 * A {@link DeviceBuffer} in device memory: floats {@code [offset, offset + size)} of an
 * allocation. Closing the allocation's own buffer returns its memory; closing a slice does nothing.
 */
final class CudaBuffer implements DeviceBuffer {
    private final CudaBackend owner;
    private final CUdeviceptr base;
    private final long offset;
    private final int size;
    private final boolean root;
    private boolean closed;

    CudaBuffer(CudaBackend owner, CUdeviceptr base, long offset, int size, boolean root) {
        this.owner = owner;
        this.base = base;
        this.offset = offset;
        this.size = size;
        this.root = root;
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
    public CudaBuffer slice(int offset, int size) {
        if (offset < 0 || size < 0 || offset > this.size - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + this.size + " floats");
        }
        return new CudaBuffer(owner, base, this.offset + offset, size, false);
    }

    CudaBackend owner() {
        return owner;
    }

    /** The device address of this buffer's first float. */
    CUdeviceptr pointer() {
        return offset == 0 ? base : base.withByteOffset(offset * Float.BYTES);
    }

    @Override
    public void close() {
        if (root && !closed) {
            closed = true;
            owner.release(base, Math.max(1L, (long) size * Float.BYTES));
        }
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + size + " floats]";
    }
}
