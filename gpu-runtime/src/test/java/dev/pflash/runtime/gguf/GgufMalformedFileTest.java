package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken files must give a GgufException naming the file and the problem, never anything else. */
class GgufMalformedFileTest {
    private static final String SUPPORTED = "F32, F16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, BF16";

    @TempDir
    Path dir;

    private byte[] valid;
    private long dataOffset;
    /** End of the last tensor's data: any shorter file is missing tensor bytes. */
    private long dataEnd;
    private int fileCounter;

    @BeforeEach
    void writeASmallValidFile() throws IOException {
        Path path = dir.resolve("valid.gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.ofString("qwen3"))
                .put("qwen3.block_count", GgufValue.ofUInt32(1))
                .put("qwen3.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-6f))
                .put("tokenizer.ggml.tokens", GgufValue.ofStrings(List.of("a", "Ġb", "<|im_end|>", "", "ĊĊ")))
                .put("tokenizer.ggml.token_type", GgufValue.ofInt32s(List.of(1, 1, 3, 5, 1)))
                .put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(false))
                .addTensor("output_norm.weight", GgmlType.F32, new long[] {8},
                        Quantize.quantize(GgmlType.F32, new float[] {1, 2, 3, 4, 5, 6, 7, 8}))
                .addTensor("token_embd.weight", GgmlType.Q8_0, new long[] {32, 2}, Quantize.quantize(GgmlType.Q8_0, ramp(64)))
                .addTensor("output.weight", GgmlType.Q4_K, new long[] {256}, Quantize.quantize(GgmlType.Q4_K, ramp(256)))
                .write(path);
        valid = Files.readAllBytes(path);
        try (GgufFile file = GgufFile.open(path)) {
            dataOffset = file.dataOffset();
            GgufTensorInfo last = file.tensorInfos().get(2);
            dataEnd = dataOffset + last.offset() + last.byteSize();
        }
    }

    private static float[] ramp(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i % 17) - 8.5f;
        }
        return x;
    }

    /** Opens the file and reads every row of every tensor; returns what was thrown, or null. */
    private static Throwable openAndReadAll(Path path) {
        try (GgufFile file = GgufFile.open(path)) {
            for (GgufTensorInfo info : file.tensorInfos()) {
                TensorData t = file.tensor(info.name());
                float[] row = new float[t.rowLength()];
                for (long r = 0; r < t.rowCount(); r++) {
                    t.dequantizeRow(r, row, 0);
                }
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private Path write(byte[] bytes) throws IOException {
        Path path = dir.resolve("case" + (fileCounter++) + ".gguf");
        Files.write(path, bytes);
        return path;
    }

    private static void assertCleanFailure(Throwable t, Path path, String what) {
        if (!(t instanceof GgufException)) {
            throw new AssertionError(what + ": expected a GgufException, got " + t, t);
        }
        assertThat(t.getMessage()).as(what).startsWith(path + ": ");
    }

    @Test
    void truncationAtEveryHeaderOffsetAndInTheDataFailsCleanly() throws IOException {
        for (int len = 0; len < valid.length; len += len < dataOffset + 40 ? 1 : 5) {
            Path path = write(Arrays.copyOf(valid, len));
            Throwable t = openAndReadAll(path);
            if (len < dataEnd) {
                assertCleanFailure(t, path, "truncated to " + len + " bytes");
            } else {
                // Only the last tensor's padding is missing: every tensor is whole.
                assertThat(t).as("truncated to %d bytes", len).isNull();
            }
            Files.delete(path);
        }
    }

    @Test
    void randomByteFlipsFailCleanlyOrStillRead() throws IOException {
        SplittableRandom rnd = new SplittableRandom(20240611);
        int failures = 0;
        int trials = 3000;
        int[] special = {0x00, 0xFF, 0x7F, 0x80, 0x01, 0x40};
        for (int trial = 0; trial < trials; trial++) {
            byte[] bytes = valid.clone();
            int flips = 1 + rnd.nextInt(3);
            StringBuilder what = new StringBuilder("trial " + trial + ":");
            for (int f = 0; f < flips; f++) {
                int at = rnd.nextInt(10) < 8 ? rnd.nextInt((int) dataOffset) : rnd.nextInt(bytes.length);
                int value = rnd.nextBoolean() ? special[rnd.nextInt(special.length)] : rnd.nextInt(256);
                bytes[at] = (byte) value;
                what.append(String.format(" [%d]=%02X", at, value));
            }
            Path path = write(bytes);
            Throwable t = openAndReadAll(path);
            if (t != null) {
                assertCleanFailure(t, path, what.toString());
                failures++;
            }
            Files.delete(path);
        }
        // The flips must reach both outcomes, or this test checks nothing.
        assertThat(failures).isBetween(trials / 10, trials - trials / 10);
    }

    private GgufException openFails(byte[] bytes) throws IOException {
        Path path = write(bytes);
        Throwable t = openAndReadAll(path);
        assertCleanFailure(t, path, "case");
        return (GgufException) t;
    }

    private String problem(byte[] bytes) throws IOException {
        Path path = dir.resolve("case" + fileCounter + ".gguf");
        String message = openFails(bytes).getMessage();
        return message.substring(path.toString().length() + 2);
    }

    private static final long[] ONE_ROW = {32};

    /** A header with one F32 tensor info as given and enough zero data after it. */
    private static byte[] oneTensor(String name, long[] dims, int typeId, long offset) {
        return RawGguf.header(3, 1, 0).tensorInfo(name, dims, typeId, offset).padTo(32).zeros(1024).bytes();
    }

    @Test
    void notAGgufFile() throws IOException {
        assertThat(problem(new byte[] {'G', 'G'})).isEqualTo("not a GGUF file: it has only 2 bytes");
        assertThat(problem("%PDF-1.7 and more".getBytes()))
                .isEqualTo("not a GGUF file: starts with 25 50 44 46, expected 47 47 55 46 (\"GGUF\")");
        assertThat(problem("FUGG\0\0\0\3".getBytes()))
                .isEqualTo("a big-endian GGUF file (magic \"FUGG\"); only little-endian files are supported");
    }

    @Test
    void unsupportedVersions() throws IOException {
        assertThat(problem(RawGguf.header(1, 0, 0).bytes())).isEqualTo("unsupported GGUF version 1; supported: 2, 3");
        assertThat(problem(RawGguf.header(4, 0, 0).bytes())).isEqualTo("unsupported GGUF version 4; supported: 2, 3");
        assertThat(problem(RawGguf.header(0x03000000, 0, 0).bytes()))
                .isEqualTo("unsupported GGUF version 50331648 (a big-endian file?); supported: 2, 3");
    }

    @Test
    void countsLargerThanTheFile() throws IOException {
        assertThat(problem(RawGguf.header(3, 1_000_000_000_000L, 0).bytes()))
                .startsWith("tensor count 1000000000000 is larger than the 8 bytes left in the file can hold");
        assertThat(problem(RawGguf.header(3, 0, -1).bytes()))
                .startsWith("metadata key count 18446744073709551615 is larger than");
        assertThat(problem(RawGguf.header(2, 1, 1).zeros(40).bytes()))
                .isEqualTo("1 tensors and 1 metadata keys cannot fit in the 40 bytes after the header");
    }

    @Test
    void stringsAndArraysLongerThanTheFile() throws IOException {
        assertThat(problem(RawGguf.header(3, 0, 1).u64(1L << 40).zeros(20).bytes()))
                .isEqualTo("string length 1099511627776 at offset 24 (in metadata key #0) exceeds the 20 bytes left"
                        + " in the file");
        byte[] manyStrings = RawGguf.header(3, 0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8)
                .u64(1_000_000_000_000L).str("a").bytes();
        assertThat(problem(manyStrings)).isEqualTo("metadata key tokenizer.ggml.tokens declares 1000000000000 STRING"
                + " elements, more than the 9 bytes left in the file can hold");
        byte[] stringPastTheEnd = RawGguf.header(3, 0, 1).str("k").u32(9).u32(8).u64(2).str("a").u64(100).bytes();
        assertThat(problem(stringPastTheEnd)).startsWith("string length 100 at offset");
    }

    @Test
    void truncatedValue() throws IOException {
        byte[] bytes = RawGguf.header(3, 0, 1).str("k").u32(GgufValueType.UINT64.id()).u32(7).bytes();
        assertThat(problem(bytes)).isEqualTo("file is truncated: metadata key k needs 8 bytes at offset 37 but the file"
                + " has 41 bytes");
    }

    @Test
    void unknownValueTypesAndNestedArrays() throws IOException {
        assertThat(problem(RawGguf.header(3, 0, 1).str("k").u32(13).u64(0).bytes()))
                .isEqualTo("metadata key k has unknown value type 13 (valid: 0 to 12)");
        assertThat(problem(RawGguf.header(3, 0, 1).str("k").u32(9).u32(0xFFFFFFFFL).u64(0).bytes()))
                .isEqualTo("metadata key k has unknown array element type 4294967295 (valid: 0 to 12)");
        assertThat(problem(RawGguf.header(3, 0, 1).str("k").u32(9).u32(9).u64(1).u32(5).u64(1).u32(7).bytes()))
                .isEqualTo("metadata key k is an array of arrays, which GGUF readers (llama.cpp) do not accept");
    }

    @Test
    void duplicates() throws IOException {
        assertThat(problem(RawGguf.header(3, 0, 2).kvU32("a.b", 1).kvU32("a.b", 2).bytes()))
                .isEqualTo("duplicate metadata key a.b");
        byte[] twice = RawGguf.header(3, 2, 0).tensorInfo("t", ONE_ROW, 0, 0).tensorInfo("t", ONE_ROW, 0, 128)
                .padTo(32).zeros(256).bytes();
        assertThat(problem(twice)).isEqualTo("duplicate tensor name t");
    }

    @Test
    void alignmentMustBeAUint32PowerOfTwo() throws IOException {
        assertThat(problem(RawGguf.header(3, 0, 1).kvU32("general.alignment", 48).bytes()))
                .isEqualTo("general.alignment = 48 is not a power of two between 1 and 2^30");
        assertThat(problem(RawGguf.header(3, 0, 1).kvU32("general.alignment", 0).bytes()))
                .isEqualTo("general.alignment = 0 is not a power of two between 1 and 2^30");
        byte[] int32 = RawGguf.header(3, 0, 1).str("general.alignment").u32(GgufValueType.INT32.id()).u32(64).bytes();
        assertThat(problem(int32)).isEqualTo("general.alignment has type INT32, expected UINT32");
    }

    @Test
    void tensorNamesMustBeShorterThan64Bytes() throws IOException {
        assertThat(problem(oneTensor("x".repeat(64), ONE_ROW, 0, 0)))
                .isEqualTo("tensor info #0 at offset 24 has a name of 64 bytes; names must be shorter than 64 bytes");
    }

    @Test
    void badDimensions() throws IOException {
        assertThat(problem(oneTensor("t", new long[] {}, 0, 0)))
                .isEqualTo("tensor t has 0 dimensions; supported: 1 to 4");
        assertThat(problem(oneTensor("t", new long[] {1, 1, 1, 1, 1}, 0, 0)))
                .isEqualTo("tensor t has 5 dimensions; supported: 1 to 4");
        assertThat(problem(oneTensor("t", new long[] {32, 0}, 0, 0)))
                .isEqualTo("tensor t dimension 1 is 0; dimensions must be positive");
        assertThat(problem(oneTensor("t", new long[] {32, -2}, 0, 0)))
                .isEqualTo("tensor t dimension 1 is 18446744073709551614; dimensions must be positive");
        assertThat(problem(oneTensor("t", new long[] {1L << 32, 1L << 32}, 0, 0)))
                .isEqualTo("tensor t dimensions overflow a 64-bit element count");
    }

    @Test
    void unsupportedTensorTypesAreNamed() throws IOException {
        assertThat(problem(oneTensor("blk.3.ffn_up.weight", new long[] {256, 2}, 17, 0)))
                .isEqualTo("tensor blk.3.ffn_up.weight has type IQ2_XS (17); supported: " + SUPPORTED);
        assertThat(problem(oneTensor("t", ONE_ROW, 3, 0))).isEqualTo("tensor t has type Q4_1 (3); supported: " + SUPPORTED);
        assertThat(problem(oneTensor("t", ONE_ROW, 99, 0)))
                .isEqualTo("tensor t has type unknown (99); supported: " + SUPPORTED);
    }

    @Test
    void rowsMustBeWholeBlocks() throws IOException {
        assertThat(problem(oneTensor("t", new long[] {100, 4}, GgmlType.Q4_K.id(), 0)))
                .isEqualTo("tensor t has rows of 100 elements, not a multiple of Q4_K's block size 256");
    }

    @Test
    void offsetsMustBeAligned() throws IOException {
        assertThat(problem(oneTensor("t", ONE_ROW, 0, 4)))
                .isEqualTo("tensor t data offset 4 is not a multiple of the alignment 32");
    }

    @Test
    void tensorDataOutsideTheFile() throws IOException {
        // 32 F32 = 128 bytes at data offset 1024 + 64 of a file whose data blob has 1024 bytes.
        assertThat(problem(oneTensor("t", ONE_ROW, 0, 1024)))
                .isEqualTo("tensor t data (32 F32 elements at data offset 1024, file offset 1088) lies outside the file"
                        + " of 1088 bytes");
        assertThat(problem(oneTensor("t", ONE_ROW, 0, Long.MAX_VALUE - 31)))
                .startsWith("tensor t data (32 F32 elements at data offset 9223372036854775776");
        assertThat(problem(oneTensor("t", new long[] {1L << 31, 1L << 31}, 0, 0)))
                .startsWith("tensor t data (4611686018427387904 F32 elements");
    }

    @Test
    void missingFile() throws IOException {
        Path path = dir.resolve("nothing-here.gguf");
        Throwable t = openAndReadAll(path);
        assertCleanFailure(t, path, "missing");
        assertThat(t).hasMessage(path + ": file not found");
    }

    @Test
    void aFileWithNoTensorsNeedsNoPadding() throws IOException {
        Path path = write(RawGguf.header(2, 0, 1).kvString("general.name", "empty").bytes());
        try (GgufFile file = GgufFile.open(path)) {
            assertThat(file.version()).isEqualTo(2);
            assertThat(file.metadata().getString("general.name")).isEqualTo("empty");
            assertThat(file.tensorInfos()).isEmpty();
        }
    }

    @Test
    void theValidFileReadsBack() throws IOException {
        Path path = write(valid);
        assertThat(openAndReadAll(path)).isNull();
        try (GgufFile file = GgufFile.open(path)) {
            assertThat(file.tensor("output_norm.weight").toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
            assertThat(file.metadata().getStringArray("tokenizer.ggml.tokens")).hasSize(5);
        }
    }
}
