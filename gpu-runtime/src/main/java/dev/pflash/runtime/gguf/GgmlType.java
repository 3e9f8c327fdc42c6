package dev.pflash.runtime.gguf;

import java.nio.ByteBuffer;

/**
 * The ggml tensor types this runtime reads: id as stored in GGUF, elements per block, bytes per
 * block, and how to dequantize a run of blocks. Layouts: GGUF-QWEN3.md section 2.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q8_0(8, 32, 34),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    public int id() {
        return id;
    }

    /** Elements per block. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes taken by {@code elements} elements; {@code elements} must be a multiple of the block size. */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements is not a multiple of " + name()
                    + "'s block size " + blockSize);
        }
        return elements / blockSize * typeSize;
    }

    /** The supported type with this id, or null. */
    public static GgmlType fromId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** A list of the supported types for error messages: "F32, F16, ...". */
    public static String supportedList() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : values()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(t.name());
        }
        return sb.toString();
    }

    /**
     * Dequantizes {@code n} elements (a multiple of the block size) starting at byte {@code offset}
     * of {@code src} into {@code dst[dstOffset ..]}. Uses absolute reads only, so a shared buffer
     * is safe across threads.
     */
    public void dequantize(ByteBuffer src, int offset, float[] dst, int dstOffset, int n) {
        Dequantize.run(this, src, offset, dst, dstOffset, n);
    }
}
