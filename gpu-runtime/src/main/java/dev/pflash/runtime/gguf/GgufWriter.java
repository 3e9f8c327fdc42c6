package dev.pflash.runtime.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a GGUF file the way llama.cpp's writers do: metadata in insertion order, tensor infos in
 * insertion order with contiguous data offsets each rounded up to the alignment, zero padding after
 * the infos and after every tensor including the last. {@link #write(Path)} streams the header
 * and the tensors' bytes to a temporary sibling file and renames it into place, so tensors may be
 * memory-mapped or bigger than the heap and a failed write leaves no half file behind.
 */
public final class GgufWriter {
    private static final int STAGING_BYTES = 1 << 16;
    private static final byte[] MAGIC = {'G', 'G', 'U', 'F'};

    private final int version;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** A tensor to write: its info and its bytes as whole-row buffers in order. */
    private record PendingTensor(String name, GgmlType type, long[] dims, long byteSize, List<ByteBuffer> parts) {
    }

    /** A GGUF v3 writer. */
    public GgufWriter() {
        this(3);
    }

    /** @param version 2 or 3 (the layout is the same; v1 is not written) */
    public GgufWriter(int version) {
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("GGUF version " + version + " cannot be written; supported: 2, 3");
        }
        this.version = version;
    }

    /**
     * Adds a metadata value (a second put of the same key replaces the value in its first
     * position). The value must use the Java representation documented on {@link GgufValue}; arrays
     * may not nest. {@code general.alignment} must be a UINT32 power of two and sets the alignment.
     */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata key must not be empty");
        }
        checkValue(key, value);
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            if (value.type() != GgufValueType.UINT32) {
                throw new IllegalArgumentException(key + " must be UINT32, got " + value.type());
            }
            alignment = checkAlignment((Long) value.value());
        }
        metadata.put(key, value);
        return this;
    }

    /** Sets the data alignment (a power of two) and records it as {@code general.alignment}. */
    public GgufWriter setAlignment(int alignment) {
        return put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(alignment));
    }

    public int alignment() {
        return alignment;
    }

    public int version() {
        return version;
    }

    /**
     * Adds a tensor whose bytes are {@code data}'s remaining bytes (not copied: they must not change
     * before {@link #write(Path)}).
     *
     * @param dims ne0 first (ne0 = the contiguous row), 1 to 4 positive dimensions
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, ByteBuffer data) {
        long size = checkTensor(name, type, dims);
        if (data.remaining() != size) {
            throw new IllegalArgumentException("tensor " + name + " " + type + " " + java.util.Arrays.toString(dims)
                    + " needs " + size + " bytes, got " + data.remaining());
        }
        tensors.add(new PendingTensor(name, type, dims.clone(), size, List.of(data.slice())));
        tensorNames.add(name);
        return this;
    }

    /** Adds a tensor from another model (read in place when written, so it may be memory-mapped). */
    public GgufWriter addTensor(TensorData tensor) {
        long size = checkTensor(tensor.name(), tensor.type(), tensor.dims());
        List<ByteBuffer> parts = new ArrayList<>();
        long row = 0;
        while (row < tensor.rowCount()) {
            ByteBuffer buffer = tensor.buffer(row);
            int start = tensor.offset(row);
            long end = row + 1;
            while (end < tensor.rowCount() && tensor.buffer(end) == buffer) {
                end++;
            }
            parts.add(buffer.slice(start, Math.toIntExact((end - row) * tensor.rowBytes())));
            row = end;
        }
        tensors.add(new PendingTensor(tensor.name(), tensor.type(), tensor.dims(), size, parts));
        tensorNames.add(tensor.name());
        return this;
    }

    /**
     * Writes the file, replacing {@code path} if it exists.
     *
     * @throws GgufException naming {@code path} if it cannot be written
     */
    public void write(Path path) {
        Path absolute = path.toAbsolutePath();
        Path temp = absolute.resolveSibling(absolute.getFileName() + ".part");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                Output out = new Output(channel);
                writeHeader(out);
                for (PendingTensor t : tensors) {
                    for (ByteBuffer part : t.parts()) {
                        out.write(part.duplicate());
                    }
                    out.pad(alignment);
                }
                out.flush();
            }
            Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new GgufException(path.toString(), "cannot write: " + e, e);
        }
    }

    private void writeHeader(Output out) throws IOException {
        out.bytes(MAGIC);
        out.u32(version);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            out.string(e.getKey());
            GgufValue v = e.getValue();
            out.u32(v.type().id());
            if (v.type() == GgufValueType.ARRAY) {
                GgufValue.GgufArray a = (GgufValue.GgufArray) v.value();
                out.u32(a.elementType().id());
                out.u64(a.elements().size());
                for (Object element : a.elements()) {
                    writeScalar(out, a.elementType(), element);
                }
            } else {
                writeScalar(out, v.type(), v.value());
            }
        }
        long offset = 0;
        for (PendingTensor t : tensors) {
            out.string(t.name());
            out.u32(t.dims().length);
            for (long d : t.dims()) {
                out.u64(d);
            }
            out.u32(t.type().id());
            out.u64(offset);
            offset += alignUp(t.byteSize(), alignment);
        }
        out.pad(alignment);
    }

    private static void writeScalar(Output out, GgufValueType type, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8 -> out.u8((Integer) v);
            case UINT16, INT16 -> out.u16((Integer) v);
            case UINT32 -> out.u32((Long) v);
            case INT32 -> out.u32((Integer) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((Float) v));
            case BOOL -> out.u8((Boolean) v ? 1 : 0);
            case STRING -> out.string((String) v);
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case ARRAY -> throw new IllegalStateException("arrays do not nest");
        }
    }

    private long checkTensor(String name, GgmlType type, long[] dims) {
        if (name == null || name.getBytes(StandardCharsets.UTF_8).length >= GgufFile.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name " + name + " must be shorter than "
                    + GgufFile.MAX_NAME_BYTES + " bytes");
        }
        if (tensorNames.contains(name)) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        if (dims.length < 1 || dims.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + " has " + dims.length + " dimensions; supported: 1 to "
                    + GgufFile.MAX_DIMS);
        }
        long elements = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor " + name + " has a dimension of " + d);
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (dims[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + " has rows of " + dims[0]
                    + " elements, not a multiple of " + type + "'s block size " + type.blockSize());
        }
        return type.byteSize(elements);
    }

    private static int checkAlignment(long a) {
        if (a <= 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
            throw new IllegalArgumentException("alignment " + a + " is not a power of two between 1 and 2^30");
        }
        return (int) a;
    }

    /** Checks that {@code value} uses the Java representation its type requires. */
    static void checkValue(String key, GgufValue value) {
        if (value.type() != GgufValueType.ARRAY) {
            checkScalar(key, value.type(), value.value());
            return;
        }
        if (!(value.value() instanceof GgufValue.GgufArray a)) {
            throw new IllegalArgumentException("metadata key " + key + ": ARRAY value must be a GgufArray, got "
                    + value.value().getClass().getSimpleName());
        }
        if (a.elementType() == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("metadata key " + key
                    + ": arrays of arrays are not written (llama.cpp rejects them)");
        }
        for (int i = 0; i < a.elements().size(); i++) {
            checkScalar(key + "[" + i + "]", a.elementType(), a.elements().get(i));
        }
    }

    private static void checkScalar(String key, GgufValueType type, Object v) {
        boolean ok = switch (type) {
            case UINT8 -> v instanceof Integer i && i >= 0 && i <= 0xFF;
            case INT8 -> v instanceof Integer i && i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE;
            case UINT16 -> v instanceof Integer i && i >= 0 && i <= 0xFFFF;
            case INT16 -> v instanceof Integer i && i >= Short.MIN_VALUE && i <= Short.MAX_VALUE;
            case UINT32 -> v instanceof Long l && l >= 0 && l <= 0xFFFFFFFFL;
            case INT32 -> v instanceof Integer;
            case FLOAT32 -> v instanceof Float;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case UINT64, INT64 -> v instanceof Long;
            case FLOAT64 -> v instanceof Double;
            case ARRAY -> false;
        };
        if (!ok) {
            String got = v == null ? "null" : v.getClass().getSimpleName() + " " + v;
            throw new IllegalArgumentException("metadata key " + key + ": " + got + " is not a valid " + type
                    + " value (" + representation(type) + ")");
        }
    }

    private static String representation(GgufValueType type) {
        return switch (type) {
            case UINT8 -> "an Integer in 0..255";
            case INT8 -> "an Integer in -128..127";
            case UINT16 -> "an Integer in 0..65535";
            case INT16 -> "an Integer in -32768..32767";
            case UINT32 -> "a Long in 0..4294967295";
            case INT32 -> "an Integer";
            case FLOAT32 -> "a Float";
            case BOOL -> "a Boolean";
            case STRING -> "a String";
            case UINT64, INT64 -> "a Long";
            case FLOAT64 -> "a Double";
            case ARRAY -> "not allowed as an array element";
        };
    }

    static long alignUp(long x, int alignment) {
        return x + (alignment - x % alignment) % alignment;
    }

    /** Little-endian output through a staging buffer; large buffers go to the channel directly. */
    private static final class Output {
        private final FileChannel channel;
        private final ByteBuffer staging = ByteBuffer.allocate(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Output(FileChannel channel) {
            this.channel = channel;
        }

        void u8(int v) throws IOException {
            room(1);
            staging.put((byte) v);
        }

        void u16(int v) throws IOException {
            room(2);
            staging.putShort((short) v);
        }

        void u32(long v) throws IOException {
            room(4);
            staging.putInt((int) v);
        }

        void u64(long v) throws IOException {
            room(8);
            staging.putLong(v);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException {
            write(ByteBuffer.wrap(b));
        }

        void write(ByteBuffer src) throws IOException {
            if (src.remaining() <= staging.remaining()) {
                written += src.remaining();
                staging.put(src);
                return;
            }
            flush();
            written += src.remaining();
            while (src.hasRemaining()) {
                channel.write(src);
            }
        }

        /** Zero bytes up to the next multiple of {@code alignment} of the bytes written so far. */
        void pad(int alignment) throws IOException {
            long n = alignUp(written, alignment) - written;
            for (long i = 0; i < n; i++) {
                u8(0);
            }
        }

        void flush() throws IOException {
            staging.flip();
            while (staging.hasRemaining()) {
                channel.write(staging);
            }
            staging.clear();
        }

        private void room(int n) throws IOException {
            if (staging.remaining() < n) {
                flush();
            }
            written += n;
        }
    }
}
