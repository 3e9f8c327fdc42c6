package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GgufRoundTripTest {
    @TempDir
    Path dir;

    /** One value of every metadata type, boundary values included, and arrays of most element types. */
    static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.ofString("qwen3"));
        m.put("test.uint8", new GgufValue(GgufValueType.UINT8, 255));
        m.put("test.int8", new GgufValue(GgufValueType.INT8, -128));
        m.put("test.uint16", new GgufValue(GgufValueType.UINT16, 65535));
        m.put("test.int16", new GgufValue(GgufValueType.INT16, -32768));
        m.put("test.uint32", GgufValue.ofUInt32(4294967295L));
        m.put("test.int32", GgufValue.ofInt32(Integer.MIN_VALUE));
        m.put("test.float32", GgufValue.ofFloat32(1.5e-6f));
        m.put("test.bool.true", GgufValue.ofBool(true));
        m.put("test.bool.false", GgufValue.ofBool(false));
        m.put("test.string", GgufValue.ofString("héllo ✓ <|im_start|>\n"));
        m.put("test.empty_string", GgufValue.ofString(""));
        m.put("test.uint64", new GgufValue(GgufValueType.UINT64, -1L));
        m.put("test.int64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE));
        m.put("test.float64", new GgufValue(GgufValueType.FLOAT64, Math.PI));
        m.put("tokenizer.ggml.tokens", GgufValue.ofStrings(List.of("!", "Ġthe", "", "<|im_end|>", "ĠĠ")));
        m.put("test.array.uint8", array(GgufValueType.UINT8, 0, 7, 255));
        m.put("test.array.int16", array(GgufValueType.INT16, -32768, 32767));
        m.put("tokenizer.ggml.token_type", GgufValue.ofInt32s(List.of(1, 1, 3, 3, 6)));
        m.put("test.array.uint32", array(GgufValueType.UINT32, 0L, 4294967295L));
        m.put("test.array.float32", GgufValue.ofFloat32s(List.of(1f, -0.5f, Float.MAX_VALUE)));
        m.put("test.array.uint64", array(GgufValueType.UINT64, 1L, -1L));
        m.put("test.array.float64", array(GgufValueType.FLOAT64, 0.25, -1e300));
        m.put("test.array.bool", array(GgufValueType.BOOL, true, false, true));
        m.put("test.array.empty", array(GgufValueType.INT64));
        return m;
    }

    static GgufValue array(GgufValueType elementType, Object... elements) {
        return new GgufValue(GgufValueType.ARRAY, new GgufValue.GgufArray(elementType, List.of(elements)));
    }

    private record Source(String name, GgmlType type, long[] dims, float[] values, ByteBuffer bytes) {
    }

    /** One tensor of every type, including 1-D, 3-D and 4-D shapes and sizes that need padding. */
    private static List<Source> tensorOfEveryType() {
        SplittableRandom rnd = new SplittableRandom(9);
        List<Source> out = new ArrayList<>();
        long[][] shapes = {{7}, {32, 3}, {64, 2, 3}, {256, 2}, {256, 1, 2, 1}, {512, 3}, {256, 5}, {6, 5}};
        GgmlType[] types = GgmlType.values();
        for (int i = 0; i < types.length; i++) {
            long[] dims = shapes[i].clone();
            dims[0] = Math.max(dims[0], types[i].blockSize());
            int n = (int) Arrays.stream(dims).reduce(1, (a, b) -> a * b);
            float[] values = new float[n];
            for (int j = 0; j < n; j++) {
                values[j] = (float) rnd.nextGaussian();
            }
            out.add(new Source("blk." + i + "." + types[i].name().toLowerCase() + ".weight", types[i], dims, values,
                    Quantize.quantize(types[i], values)));
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"3, 0", "2, 0", "3, 64", "2, 8", "3, 1"})
    void everyTensorTypeAndMetadataTypeRoundTrips(int version, int alignment) throws IOException {
        GgufWriter writer = new GgufWriter(version);
        Map<String, GgufValue> expected = everyValueType();
        expected.forEach(writer::put);
        if (alignment != 0) {
            writer.setAlignment(alignment);
            expected.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(alignment));
        }
        int a = alignment == 0 ? 32 : alignment;
        List<Source> sources = tensorOfEveryType();
        for (Source s : sources) {
            writer.addTensor(s.name(), s.type(), s.dims(), s.bytes());
        }
        Path path = dir.resolve("model.gguf");
        writer.write(path);

        try (GgufFile file = GgufFile.open(path)) {
            assertThat(file.version()).isEqualTo(version);
            assertThat(file.alignment()).isEqualTo(a);
            assertThat(file.name()).isEqualTo(path.toString());
            assertThat(file.metadata().asMap()).containsExactlyEntriesOf(expected);
            assertThat(file.metadata().asMap().get("test.uint8").value()).isInstanceOf(Integer.class);
            assertThat(file.metadata().asMap().get("test.uint32").value()).isInstanceOf(Long.class);
            assertThat(file.metadata().getStringArray("tokenizer.ggml.tokens"))
                    .containsExactly("!", "Ġthe", "", "<|im_end|>", "ĠĠ");

            assertThat(file.dataOffset() % a).isZero();
            long expectedOffset = 0;
            byte[] raw = Files.readAllBytes(path);
            assertThat(file.tensorInfos()).hasSameSizeAs(sources);
            for (int i = 0; i < sources.size(); i++) {
                Source s = sources.get(i);
                GgufTensorInfo info = file.tensorInfos().get(i);
                assertThat(info.name()).isEqualTo(s.name());
                assertThat(info.dims()).containsExactly(s.dims());
                assertThat(info.type()).isEqualTo(s.type());
                // llama.cpp's rule: offsets are contiguous in info order, each size rounded up to the alignment.
                assertThat(info.offset()).isEqualTo(expectedOffset);
                long end = file.dataOffset() + info.offset() + info.byteSize();
                long paddedEnd = file.dataOffset() + GgufWriter.alignUp(info.offset() + info.byteSize(), a);
                assertThat(Arrays.copyOfRange(raw, (int) end, (int) paddedEnd)).isEqualTo(new byte[(int) (paddedEnd - end)]);
                expectedOffset += GgufWriter.alignUp(info.byteSize(), a);

                TensorData t = file.tensor(s.name());
                byte[] read = new byte[(int) t.byteSize()];
                t.buffer(0).get(t.offset(0), read);
                assertThat(read).isEqualTo(bytesOf(s.bytes()));
                float[] direct = new float[s.values().length];
                s.type().dequantize(s.bytes(), 0, direct, 0, direct.length);
                assertThat(t.toFloatArray()).containsExactly(direct);
                assertCloseToSource(s, direct);
            }
            // The file ends right after the last tensor's padding: the size llama.cpp's writer produces.
            assertThat(raw.length).isEqualTo(file.dataOffset() + expectedOffset);
        }
    }

    private static void assertCloseToSource(Source s, float[] dequantized) {
        // About 1.5 times the worst error seen on unit Gaussians (QuantizeTest states the per-element bounds).
        float tolerance = switch (s.type()) {
            case F32 -> 0f;
            case F16 -> 2e-3f;
            case BF16 -> 2e-2f;
            case Q8_0 -> 0.025f;
            case Q6_K -> 0.1f;
            case Q5_K -> 0.16f;
            case Q4_K -> 0.33f;
            case Q4_0 -> 0.47f;
        };
        for (int i = 0; i < dequantized.length; i++) {
            assertThat(Math.abs(dequantized[i] - s.values()[i])).as("%s %d", s.name(), i).isLessThanOrEqualTo(tolerance);
        }
    }

    private static byte[] bytesOf(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void writesExactlyTheBytesOfTheSpecification() throws IOException {
        Path path = dir.resolve("tiny.gguf");
        ByteBuffer data = Quantize.quantize(GgmlType.F32, new float[] {1f, -2f});
        new GgufWriter().put("general.architecture", GgufValue.ofString("x"))
                .addTensor("t", GgmlType.F32, new long[] {2}, data).write(path);
        byte[] expected = RawGguf.header(3, 1, 1)
                .kvString("general.architecture", "x")
                .tensorInfo("t", new long[] {2}, 0, 0)
                .padTo(32) // 24 header + 41 key/value + 33 tensor info = 98 bytes, padded to 128
                .raw(0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0)
                .padTo(32) // the last tensor is padded too: 160 bytes in all
                .bytes();
        assertThat(expected).hasSize(160);
        assertThat(Files.readAllBytes(path)).isEqualTo(expected);
    }

    @Test
    void copiesTensorsFromAMappedFileInPieces() throws IOException {
        GgufWriter writer = new GgufWriter();
        everyValueType().forEach(writer::put);
        for (Source s : tensorOfEveryType()) {
            writer.addTensor(s.name(), s.type(), s.dims(), s.bytes());
        }
        Path first = dir.resolve("first.gguf");
        writer.write(first);
        Path second = dir.resolve("second.gguf");
        try (GgufFile file = GgufFile.open(first, 300)) {
            GgufWriter copy = new GgufWriter();
            file.metadata().asMap().forEach(copy::put);
            for (GgufTensorInfo info : file.tensorInfos()) {
                copy.addTensor(file.tensor(info.name()));
            }
            copy.write(second);
        }
        assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(first));
        assertThat(dir.resolve("second.gguf.part")).doesNotExist();
    }

    @Test
    void rewritingReplacesTheFile() throws IOException {
        Path path = dir.resolve("model.gguf");
        new GgufWriter().put("a", GgufValue.ofString("long enough to be longer")).write(path);
        new GgufWriter().put("a", GgufValue.ofString("b")).write(path);
        try (GgufFile file = GgufFile.open(path)) {
            assertThat(file.metadata().getString("a")).isEqualTo("b");
            assertThat(file.tensorInfos()).isEmpty();
        }
    }
}
