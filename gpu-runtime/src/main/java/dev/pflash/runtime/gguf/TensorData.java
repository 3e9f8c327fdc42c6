package dev.pflash.runtime.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A tensor's bytes, accessed in place (memory-mapped or in memory), never copied whole. The bytes
 * are held as one or more little-endian buffers that each hold a whole number of rows, so that a
 * tensor larger than 2 GiB (one Java buffer's limit) still gives every row as one contiguous
 * range: {@code buffer(row)} at {@code offset(row)}, {@code rowBytes()} long.
 */
public final class TensorData {
    private final String name;
    private final GgmlType type;
    private final long[] dims;
    private final long rows;
    private final int rowBytes;
    private final long rowsPerPiece;
    private final ByteBuffer[] pieces;

    /**
     * @param pieces buffers of {@code rowsPerPiece} rows each (the last may hold fewer), position 0
     *     at the first row's first byte
     */
    public TensorData(String name, GgmlType type, long[] dims, long rowsPerPiece, ByteBuffer[] pieces) {
        this.name = name;
        this.type = type;
        this.dims = dims.clone();
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        this.rows = n / dims[0];
        this.rowBytes = Math.toIntExact(type.byteSize(dims[0]));
        this.rowsPerPiece = rowsPerPiece;
        this.pieces = new ByteBuffer[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            this.pieces[i] = pieces[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        if (rows > 0 && (pieces.length == 0 || (rows + rowsPerPiece - 1) / rowsPerPiece != pieces.length)) {
            throw new IllegalArgumentException(name + ": " + pieces.length + " pieces for " + rows + " rows of "
                    + rowsPerPiece);
        }
    }

    /** A tensor held in one buffer (at most 2 GiB). */
    public static TensorData of(String name, GgmlType type, long[] dims, ByteBuffer bytes) {
        long rows = 1;
        for (int i = 1; i < dims.length; i++) {
            rows *= dims[i];
        }
        return new TensorData(name, type, dims, Math.max(rows, 1), new ByteBuffer[] {bytes});
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Elements per row (ne0). */
    public int rowLength() {
        return Math.toIntExact(dims[0]);
    }

    public long rowCount() {
        return rows;
    }

    public int rowBytes() {
        return rowBytes;
    }

    public long elementCount() {
        return rows * dims[0];
    }

    public long byteSize() {
        return rows * rowBytes;
    }

    /** The buffer holding row {@code row}; shared, read it with absolute gets only. */
    public ByteBuffer buffer(long row) {
        return pieces[(int) (row / rowsPerPiece)];
    }

    /** Byte offset of row {@code row} inside {@link #buffer(long)}. */
    public int offset(long row) {
        return (int) ((row % rowsPerPiece) * rowBytes);
    }

    /** Dequantizes one row into {@code dst[dstOffset ..]}. */
    public void dequantizeRow(long row, float[] dst, int dstOffset) {
        type.dequantize(buffer(row), offset(row), dst, dstOffset, rowLength());
    }

    /** Dequantizes the whole tensor; for small tensors only (norm weights, biases, tests). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(elementCount())];
        for (long r = 0; r < rows; r++) {
            dequantizeRow(r, out, (int) (r * dims[0]));
        }
        return out;
    }
}
