package dev.pflash.runtime.backend.cuda;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import jcuda.driver.CUdeviceptr;

/**
 * A {@link DeviceBuffer} in device memory: elements {@code [offset, offset + size)} of an
 * allocation, f32 or f16. Closing the allocation's own buffer returns its memory; closing a slice
 * does nothing.
 */
final class CudaBuffer implements DeviceBuffer {
    private final CudaBackend owner;
    private final CUdeviceptr base;
    private final ElementType type;
    private final long offset;
    private final int size;
    private final boolean root;
    private boolean closed;

    CudaBuffer(CudaBackend owner, CUdeviceptr base, ElementType type, long offset, int size, boolean root) {
        this.owner = owner;
        this.base = base;
        this.type = type;
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
        return type;
    }

    @Override
    public CudaBuffer slice(int offset, int size) {
        if (offset < 0 || size < 0 || offset > this.size - size) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + offset + " + " + size + ") of a buffer of "
                    + this.size + " elements");
        }
        return new CudaBuffer(owner, base, type, this.offset + offset, size, false);
    }

    CudaBackend owner() {
        return owner;
    }

    /** The device address of this buffer's first element. */
    CUdeviceptr pointer() {
        return offset == 0 ? base : base.withByteOffset(type.bytes(offset));
    }

    /** Bytes of this buffer's elements. */
    long bytes() {
        return type.bytes(size);
    }

    /** 1 for f16 elements, 0 for f32: the kvHalf argument of the kernels that read a KV cache. */
    int halfFlag() {
        return type == ElementType.F16 ? 1 : 0;
    }

    @Override
    public void close() {
        if (root && !closed) {
            closed = true;
            owner.release(base, Math.max(1L, bytes()));
        }
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + size + " " + type + "]";
    }
}
