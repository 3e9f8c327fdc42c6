package dev.pflash.runtime.gguf;

/**
 * A tensor's header entry: name, dimensions ne0-first (ne0 is the contiguous row), type, and the
 * byte offset of its data relative to the start of the data blob.
 */
public record GgufTensorInfo(String name, long[] dims, GgmlType type, long offset) {
    public GgufTensorInfo {
        dims = dims.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Elements in one row (ne0). */
    public long rowLength() {
        return dims[0];
    }

    /** Number of rows: the product of every dimension after ne0. */
    public long rowCount() {
        return elementCount() / dims[0];
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && java.util.Arrays.equals(dims, t.dims)
                && type == t.type && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + java.util.Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(dims) + " " + type + " @" + offset;
    }
}
