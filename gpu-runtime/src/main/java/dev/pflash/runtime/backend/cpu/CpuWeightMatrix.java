package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;

/**
 * A weight matrix read in place from its tensor's bytes (memory-mapped or in memory): the matmul
 * dequantizes one row at a time into scratch. A quantized matrix may also carry a copy repacked on
 * the heap ({@link InterleavedWeights}), which the vector kernels read for calls of few tokens.
 */
final class CpuWeightMatrix implements WeightMatrix {
    private final TensorData tensor;
    private final int rows;
    private final int cols;
    private final InterleavedWeights interleaved;

    CpuWeightMatrix(TensorData tensor) {
        this(tensor, null);
    }

    private CpuWeightMatrix(TensorData tensor, InterleavedWeights interleaved) {
        long[] dims = tensor.dims();
        if (dims.length > 2) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has " + dims.length
                    + " dimensions; a weight matrix has at most 2");
        }
        if (tensor.rowCount() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has " + tensor.rowCount()
                    + " rows; at most " + Integer.MAX_VALUE + " are supported");
        }
        this.tensor = tensor;
        this.rows = (int) tensor.rowCount();
        this.cols = tensor.rowLength();
        this.interleaved = interleaved;
    }

    /** This matrix with its repacked copy for the vector kernels' calls of few tokens. */
    CpuWeightMatrix withInterleaved(InterleavedWeights repacked) {
        return new CpuWeightMatrix(tensor, repacked);
    }

    /** The repacked copy, or null where there is none (types not repacked, scalar kernels, or no heap for it). */
    InterleavedWeights interleaved() {
        return interleaved;
    }

    @Override
    public String name() {
        return tensor.name();
    }

    @Override
    public GgmlType type() {
        return tensor.type();
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
        return tensor.byteSize();
    }

    /** Dequantizes row {@code row} into {@code dst[dstOffset .. dstOffset + cols)}; safe from any thread. */
    void dequantizeRow(int row, float[] dst, int dstOffset) {
        tensor.dequantizeRow(row, dst, dstOffset);
    }

    /** The buffer holding row {@code row}'s bytes; shared, read it with absolute gets only. */
    ByteBuffer buffer(int row) {
        return tensor.buffer(row);
    }

    /** Byte offset of row {@code row} inside {@link #buffer(int)}. */
    int offset(int row) {
        return tensor.offset(row);
    }

    /**
     * {@code sum_i w[row][i] * x[x0 + i]}, bit-identical to {@link FloatKernels#dot} of the
     * dequantized row; Q8_0 rows are read in place, other types dequantized into {@code scratch}.
     */
    float dotRow(int row, float[] x, int x0, float[] scratch) {
        if (tensor.type() == GgmlType.Q8_0) {
            return Q8Dot.dot(tensor.buffer(row), tensor.offset(row), x, x0, cols / GgmlType.Q8_0.blockSize());
        }
        dequantizeRow(row, scratch, 0);
        return FloatKernels.dot(scratch, 0, x, x0, cols);
    }

    /** The mapping belongs to the model file, which its owner closes. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "CpuWeightMatrix[" + tensor.name() + " " + tensor.type() + " " + rows + "x" + cols + "]";
    }
}
