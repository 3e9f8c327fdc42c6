package dev.pflash.runtime.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GGUF model file (v2 or v3, little-endian): metadata and tensor infos parsed from the header,
 * tensor data memory-mapped read-only and read in place. Each tensor gets its own mappings; a
 * tensor larger than about 1 GiB is split into several mappings of whole rows, so files and
 * tensors over 2 GiB work. Every structural problem is reported as a {@link GgufException} whose
 * message starts with the file path; no count read from the file is trusted before it has been
 * checked against the bytes the file has left.
 */
public final class GgufFile implements ModelFile {
    private static final Logger LOG = LoggerFactory.getLogger(GgufFile.class);

    static final long DEFAULT_MAX_PIECE_BYTES = 1L << 30;
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** gguf.cpp's GGML_MAX_NAME: names must be shorter than this many bytes. */
    static final int MAX_NAME_BYTES = 64;
    static final int MAX_DIMS = 4;
    /** Chat templates are kilobytes; a string this long in a header is corruption, not data. */
    static final int MAX_STRING_BYTES = 1 << 26;
    /** The largest real arrays are vocabularies of a few hundred thousand entries. */
    static final int MAX_ARRAY_ELEMENTS = 1 << 24;

    private static final int WINDOW_BYTES = 1 << 16;
    /** Every ggml type by id (null: removed ids), supported or not, to name a type this runtime cannot read. */
    private static final String[] GGML_TYPE_NAMES = {"F32", "F16", "Q4_0", "Q4_1", null, null, "Q5_0", "Q5_1", "Q8_0",
        "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
        "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", null, null, null, "TQ1_0",
        "TQ2_0", null, null, null, "MXFP4", "NVFP4", "Q1_0"};
    private static final byte[] MAGIC = {'G', 'G', 'U', 'F'};
    /** Smallest possible encodings, to bound counts by the bytes left: key length + type + 1-byte value. */
    private static final long MIN_KV_BYTES = 8 + 4 + 1;
    /** Name length + n_dims + one dim + type + offset. */
    private static final long MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

    private final String name;
    private final int version;
    private final int alignment;
    private final long dataOffset;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensorInfos;
    private final Map<String, TensorData> tensors;
    private volatile boolean closed;

    private GgufFile(String name, int version, int alignment, long dataOffset, GgufMetadata metadata,
            List<GgufTensorInfo> tensorInfos, Map<String, TensorData> tensors) {
        this.name = name;
        this.version = version;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensorInfos = tensorInfos;
        this.tensors = tensors;
    }

    /**
     * Parses the header of {@code path} and maps its tensors.
     *
     * @throws GgufException if the file cannot be read or is not a valid GGUF v2/v3 file of
     *     supported tensor types
     */
    public static GgufFile open(Path path) {
        return open(path, DEFAULT_MAX_PIECE_BYTES);
    }

    /** As {@link #open(Path)}, with mappings of at most {@code maxPieceBytes} (unless one row is larger). */
    static GgufFile open(Path path, long maxPieceBytes) {
        String source = path.toString();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            GgufFile file = new Parser(source, channel, channel.size(), maxPieceBytes).parse();
            LOG.debug("Opened {}: GGUF v{}, {} metadata keys, {} tensors, data at {}", source, file.version,
                    file.metadata.asMap().size(), file.tensorInfos.size(), file.dataOffset);
            return file;
        } catch (NoSuchFileException e) {
            throw new GgufException(source, "file not found", e);
        } catch (IOException e) {
            throw new GgufException(source, "cannot read: " + e, e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    public int version() {
        return version;
    }

    /** Byte offset in the file where the tensor data blob starts. */
    public long dataOffset() {
        return dataOffset;
    }

    public int alignment() {
        return alignment;
    }

    @Override
    public GgufMetadata metadata() {
        return metadata;
    }

    /** Tensor infos in file order. */
    @Override
    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    @Override
    public Optional<TensorData> findTensor(String tensorName) {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
        return Optional.ofNullable(tensors.get(tensorName));
    }

    /**
     * Marks the file closed. The channel was closed right after mapping; the mappings themselves
     * are released by the garbage collector once no {@link TensorData} refers to them.
     */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return name;
    }

    /** Name of a ggml type id, for "unsupported type" messages (ids from ggml.h / constants.py). */
    private static String ggmlTypeName(long id) {
        String n = id >= 0 && id < GGML_TYPE_NAMES.length ? GGML_TYPE_NAMES[(int) id] : null;
        return n != null ? n : "unknown";
    }

    /** One pass over the header; holds the parse state so that {@link GgufFile} stays immutable. */
    private static final class Parser {
        private final String source;
        private final FileChannel channel;
        private final long fileSize;
        private final long maxPieceBytes;
        private final GgufInput in;

        Parser(String source, FileChannel channel, long fileSize, long maxPieceBytes) {
            this.source = source;
            this.channel = channel;
            this.fileSize = fileSize;
            this.maxPieceBytes = maxPieceBytes;
            this.in = new GgufInput(source, channel, fileSize, WINDOW_BYTES);
        }

        GgufFile parse() throws IOException {
            readMagic();
            in.context("the version");
            long version = in.u32();
            if (version != 2 && version != 3) {
                String hint = version != 0 && (version & 0xFFFF) == 0 ? " (a big-endian file?)" : "";
                throw problem("unsupported GGUF version " + version + hint + "; supported: 2, 3");
            }
            in.context("the tensor count");
            long tensorCount = count(in.i64(), MIN_TENSOR_INFO_BYTES, "tensor count");
            in.context("the metadata key count");
            long kvCount = count(in.i64(), MIN_KV_BYTES, "metadata key count");
            if (tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES > in.remaining()) {
                throw problem(tensorCount + " tensors and " + kvCount + " metadata keys cannot fit in the "
                        + in.remaining() + " bytes after the header");
            }
            Map<String, GgufValue> values = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                in.context("metadata key #" + i);
                String key = readString();
                if (values.containsKey(key)) {
                    throw problem("duplicate metadata key " + key);
                }
                in.context("metadata key " + key);
                values.put(key, readValue(key));
            }
            int alignment = alignment(values.get(ALIGNMENT_KEY));
            List<GgufTensorInfo> infos = new ArrayList<>();
            Map<String, GgufTensorInfo> byName = new HashMap<>();
            for (long i = 0; i < tensorCount; i++) {
                GgufTensorInfo info = readTensorInfo(i, alignment);
                if (byName.putIfAbsent(info.name(), info) != null) {
                    throw problem("duplicate tensor name " + info.name());
                }
                infos.add(info);
            }
            long dataOffset = alignUp(in.position(), alignment);
            Map<String, TensorData> tensors = new HashMap<>();
            for (GgufTensorInfo info : infos) {
                tensors.put(info.name(), map(info, dataOffset));
            }
            return new GgufFile(source, (int) version, alignment, dataOffset, new GgufMetadata(source, values),
                    Collections.unmodifiableList(infos), Collections.unmodifiableMap(tensors));
        }

        private void readMagic() {
            if (fileSize < MAGIC.length) {
                throw problem("not a GGUF file: it has only " + fileSize + " bytes");
            }
            in.context("the magic");
            byte[] magic = in.bytes(MAGIC.length);
            if (new String(magic, StandardCharsets.ISO_8859_1).equals("FUGG")) {
                throw problem("a big-endian GGUF file (magic \"FUGG\"); only little-endian files are supported");
            }
            for (int i = 0; i < MAGIC.length; i++) {
                if (magic[i] != MAGIC[i]) {
                    throw problem(String.format("not a GGUF file: starts with %02X %02X %02X %02X, expected 47 47 55 46"
                            + " (\"GGUF\")", magic[0], magic[1], magic[2], magic[3]));
                }
            }
        }

        /** A uint64 count that must fit the remaining bytes at {@code minBytes} each. */
        private long count(long n, long minBytes, String what) {
            if (n < 0 || n > in.remaining() / minBytes) {
                throw problem(what + " " + Long.toUnsignedString(n) + " is larger than the " + in.remaining()
                        + " bytes left in the file can hold");
            }
            return n;
        }

        private String readString() {
            long start = in.position();
            long len = in.i64();
            if (len < 0 || len > in.remaining()) {
                throw problem("string length " + Long.toUnsignedString(len) + " at offset " + start + " (in "
                        + in.context() + ") exceeds the " + in.remaining() + " bytes left in the file");
            }
            if (len > MAX_STRING_BYTES) {
                throw problem("string of " + len + " bytes at offset " + start + " (in " + in.context()
                        + ") is longer than the limit of " + MAX_STRING_BYTES + " bytes");
            }
            return new String(in.bytes((int) len), StandardCharsets.UTF_8);
        }

        private GgufValueType valueType(String key, String what) {
            long id = in.u32();
            GgufValueType t = id <= Integer.MAX_VALUE ? GgufValueType.fromId((int) id) : null;
            if (t == null) {
                throw problem("metadata key " + key + " has unknown " + what + " " + id
                        + " (valid: 0 to 12)");
            }
            return t;
        }

        private GgufValue readValue(String key) {
            GgufValueType type = valueType(key, "value type");
            if (type != GgufValueType.ARRAY) {
                return new GgufValue(type, readScalar(type));
            }
            GgufValueType elementType = valueType(key, "array element type");
            if (elementType == GgufValueType.ARRAY) {
                throw problem("metadata key " + key + " is an array of arrays, which GGUF readers (llama.cpp)"
                        + " do not accept");
            }
            long count = in.i64();
            long minBytes = elementType == GgufValueType.STRING ? 8 : scalarBytes(elementType);
            if (count < 0 || count > in.remaining() / minBytes) {
                throw problem("metadata key " + key + " declares " + Long.toUnsignedString(count) + " "
                        + elementType + " elements, more than the " + in.remaining()
                        + " bytes left in the file can hold");
            }
            if (count > MAX_ARRAY_ELEMENTS) {
                throw problem("metadata key " + key + " declares " + count + " elements, more than the limit of "
                        + MAX_ARRAY_ELEMENTS);
            }
            List<Object> elements = new ArrayList<>((int) count);
            for (long i = 0; i < count; i++) {
                elements.add(readScalar(elementType));
            }
            return new GgufValue(GgufValueType.ARRAY, new GgufValue.GgufArray(elementType, elements));
        }

        /** One non-array value in the Java representation documented on {@link GgufValue}. */
        private Object readScalar(GgufValueType type) {
            return switch (type) {
                case UINT8 -> in.u8();
                case INT8 -> (int) in.i8();
                case UINT16 -> in.u16();
                case INT16 -> (int) in.i16();
                case UINT32 -> in.u32();
                case INT32 -> in.i32();
                case FLOAT32 -> in.f32();
                case BOOL -> in.u8() != 0;
                case STRING -> readString();
                case UINT64, INT64 -> in.i64();
                case FLOAT64 -> in.f64();
                case ARRAY -> throw new IllegalStateException("arrays are read by readValue");
            };
        }

        private static long scalarBytes(GgufValueType type) {
            return switch (type) {
                case UINT8, INT8, BOOL -> 1;
                case UINT16, INT16 -> 2;
                case UINT32, INT32, FLOAT32 -> 4;
                case UINT64, INT64, FLOAT64, STRING -> 8;
                case ARRAY -> throw new IllegalStateException("arrays have no fixed size");
            };
        }

        private int alignment(GgufValue value) {
            if (value == null) {
                return DEFAULT_ALIGNMENT;
            }
            if (value.type() != GgufValueType.UINT32) {
                throw problem(ALIGNMENT_KEY + " has type " + value.type() + ", expected UINT32");
            }
            long a = (Long) value.value();
            if (a == 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
                throw problem(ALIGNMENT_KEY + " = " + a + " is not a power of two between 1 and 2^30");
            }
            return (int) a;
        }

        private GgufTensorInfo readTensorInfo(long index, int alignment) {
            in.context("tensor info #" + index);
            long start = in.position();
            long nameLen = in.i64();
            if (nameLen < 0 || nameLen >= MAX_NAME_BYTES) {
                throw problem("tensor info #" + index + " at offset " + start + " has a name of "
                        + Long.toUnsignedString(nameLen) + " bytes; names must be shorter than " + MAX_NAME_BYTES
                        + " bytes");
            }
            String tensorName = new String(in.bytes((int) nameLen), StandardCharsets.UTF_8);
            in.context("tensor info " + tensorName);
            long nDims = in.u32();
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw problem("tensor " + tensorName + " has " + nDims + " dimensions; supported: 1 to " + MAX_DIMS);
            }
            long[] dims = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = in.i64();
                if (dims[d] <= 0) {
                    throw problem("tensor " + tensorName + " dimension " + d + " is "
                            + Long.toUnsignedString(dims[d]) + "; dimensions must be positive");
                }
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw problem("tensor " + tensorName + " dimensions overflow a 64-bit element count");
                }
            }
            long typeId = in.u32();
            GgmlType type = typeId <= Integer.MAX_VALUE ? GgmlType.fromId((int) typeId) : null;
            if (type == null) {
                throw problem("tensor " + tensorName + " has type " + ggmlTypeName(typeId) + " (" + typeId
                        + "); supported: " + GgmlType.supportedList());
            }
            if (dims[0] % type.blockSize() != 0) {
                throw problem("tensor " + tensorName + " has rows of " + dims[0] + " elements, not a multiple of "
                        + type + "'s block size " + type.blockSize());
            }
            long offset = in.i64();
            if (offset < 0 || offset % alignment != 0) {
                throw problem("tensor " + tensorName + " data offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            return new GgufTensorInfo(tensorName, dims, type, offset);
        }

        /** Checks that the tensor lies inside the file and maps it in pieces of whole rows. */
        private TensorData map(GgufTensorInfo info, long dataOffset) throws IOException {
            long elements = info.elementCount();
            long available = info.offset() > fileSize ? -1 : fileSize - dataOffset - info.offset();
            // Divide instead of multiplying so that a huge element count cannot overflow.
            long maxBlocks = available < 0 ? -1 : available / info.type().typeSize();
            if (elements / info.type().blockSize() > maxBlocks) {
                throw problem("tensor " + info.name() + " data (" + elements + " " + info.type() + " elements at"
                        + " data offset " + info.offset() + ", file offset "
                        + (dataOffset + info.offset()) + ") lies outside the file of " + fileSize + " bytes");
            }
            long rowBytes = info.type().byteSize(info.rowLength());
            if (rowBytes > Integer.MAX_VALUE) {
                throw problem("tensor " + info.name() + " has rows of " + rowBytes + " bytes; the limit is 2 GiB");
            }
            long rows = info.rowCount();
            long rowsPerPiece = Math.max(1, Math.min(rows, maxPieceBytes / rowBytes));
            int pieces = Math.toIntExact((rows + rowsPerPiece - 1) / rowsPerPiece);
            ByteBuffer[] buffers = new ByteBuffer[pieces];
            long start = dataOffset + info.offset();
            for (int p = 0; p < pieces; p++) {
                long pieceRows = Math.min(rowsPerPiece, rows - p * rowsPerPiece);
                buffers[p] = channel.map(FileChannel.MapMode.READ_ONLY, start + p * rowsPerPiece * rowBytes,
                        pieceRows * rowBytes);
            }
            return new TensorData(info.name(), info.type(), info.dims(), rowsPerPiece, buffers);
        }

        private static long alignUp(long x, int alignment) {
            return x + (alignment - x % alignment) % alignment;
        }

        private GgufException problem(String what) {
            return new GgufException(source, what);
        }
    }
}
