package dev.pflash.runtime.backend.cuda;

import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgmlType;
import jcuda.driver.CUdeviceptr;

/** A weight matrix in device memory in its stored type: {@code rows} rows of {@code rowBytes} bytes, back to back. */
final class CudaWeightMatrix implements WeightMatrix {
    private final CudaBackend owner;
    private final String name;
    private final GgmlType type;
    private final int rows;
    private final int cols;
    private final int rowBytes;
    private final CUdeviceptr data;
    private boolean closed;

    CudaWeightMatrix(CudaBackend owner, String name, GgmlType type, int rows, int cols, int rowBytes, CUdeviceptr data) {
        this.owner = owner;
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = rowBytes;
        this.data = data;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public GgmlType type() {
        return type;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public long bytes() {
        return (long) rows * rowBytes;
    }

    int rowBytes() {
        return rowBytes;
    }

    CudaBackend owner() {
        return owner;
    }

    /** Device address of row {@code row}'s first byte. */
    CUdeviceptr row(long row) {
        return row == 0 ? data : data.withByteOffset(row * rowBytes);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.releaseWeights(data, bytes());
        }
    }

    @Override
    public String toString() {
        return "CudaWeightMatrix[" + name + " " + type + " " + rows + "x" + cols + "]";
    }
}
