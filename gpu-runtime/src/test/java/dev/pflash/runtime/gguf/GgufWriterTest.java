package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the writer refuses: everything llama.cpp would reject, before a byte is written. */
class GgufWriterTest {
    @TempDir
    Path dir;

    private final GgufWriter writer = new GgufWriter();

    @Test
    void rejectsValuesWhoseJavaTypeDoesNotMatchTheirGgufType() {
        assertThatThrownBy(() -> writer.put("k", new GgufValue(GgufValueType.UINT8, 256)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("metadata key k: Integer 256 is not a valid UINT8 value (an Integer in 0..255)");
        assertThatThrownBy(() -> writer.put("k", new GgufValue(GgufValueType.UINT32, 5)))
                .hasMessage("metadata key k: Integer 5 is not a valid UINT32 value (a Long in 0..4294967295)");
        assertThatThrownBy(() -> writer.put("k", new GgufValue(GgufValueType.INT16, 40000)))
                .hasMessageContaining("is not a valid INT16 value");
        assertThatThrownBy(() -> writer.put("k", new GgufValue(GgufValueType.STRING, 5)))
                .hasMessageContaining("Integer 5 is not a valid STRING value");
        assertThatThrownBy(() -> writer.put("k", new GgufValue(GgufValueType.FLOAT32, 1.0)))
                .hasMessageContaining("Double 1.0 is not a valid FLOAT32 value");
        assertThatThrownBy(() -> writer.put("k", new GgufValue(GgufValueType.ARRAY, "x")))
                .hasMessageContaining("ARRAY value must be a GgufArray");
        assertThatThrownBy(() -> writer.put("k", GgufRoundTripTest.array(GgufValueType.STRING, "a", 1)))
                .hasMessage("metadata key k[1]: Integer 1 is not a valid STRING value (a String)");
        GgufValue inner = GgufRoundTripTest.array(GgufValueType.INT32, 1);
        assertThatThrownBy(() -> writer.put("k", GgufRoundTripTest.array(GgufValueType.ARRAY, inner)))
                .hasMessageContaining("arrays of arrays");
        assertThatThrownBy(() -> writer.put("", GgufValue.ofBool(true))).hasMessageContaining("empty");
    }

    @Test
    void alignmentMustBeAUint32PowerOfTwo() {
        assertThatThrownBy(() -> writer.setAlignment(48)).hasMessageContaining("alignment 48 is not a power of two");
        assertThatThrownBy(() -> writer.setAlignment(0)).hasMessageContaining("alignment 0");
        assertThatThrownBy(() -> writer.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofInt32(64)))
                .hasMessageContaining("must be UINT32");
        writer.put(GgufFile.ALIGNMENT_KEY, GgufValue.ofUInt32(128));
        assertThat(writer.alignment()).isEqualTo(128);
    }

    @Test
    void rejectsMalformedTensors() {
        ByteBuffer twoFloats = ByteBuffer.allocate(8);
        assertThatThrownBy(() -> writer.addTensor("t", GgmlType.F32, new long[] {3}, twoFloats))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("tensor t F32 [3] needs 12 bytes, got 8");
        assertThatThrownBy(() -> writer.addTensor("x".repeat(64), GgmlType.F32, new long[] {2}, twoFloats))
                .hasMessageContaining("must be shorter than 64 bytes");
        assertThatThrownBy(() -> writer.addTensor("t", GgmlType.F32, new long[] {}, twoFloats))
                .hasMessageContaining("0 dimensions");
        assertThatThrownBy(() -> writer.addTensor("t", GgmlType.F32, new long[] {1, 1, 1, 1, 2}, twoFloats))
                .hasMessageContaining("5 dimensions");
        assertThatThrownBy(() -> writer.addTensor("t", GgmlType.F32, new long[] {2, 0}, twoFloats))
                .hasMessageContaining("dimension of 0");
        assertThatThrownBy(() -> writer.addTensor("t", GgmlType.Q8_0, new long[] {16}, twoFloats))
                .hasMessageContaining("rows of 16 elements, not a multiple of Q8_0's block size 32");
        writer.addTensor("x".repeat(63), GgmlType.F32, new long[] {2}, twoFloats);
        assertThatThrownBy(() -> writer.addTensor("x".repeat(63), GgmlType.F32, new long[] {2}, twoFloats))
                .hasMessageContaining("duplicate tensor");
    }

    @Test
    void rejectsVersionsItCannotWrite() {
        assertThatThrownBy(() -> new GgufWriter(1)).hasMessage("GGUF version 1 cannot be written; supported: 2, 3");
        assertThatThrownBy(() -> new GgufWriter(4)).hasMessageContaining("version 4");
    }

    @Test
    void aFailedWriteNamesThePathAndLeavesNoPartialFile() {
        Path missingDir = dir.resolve("missing").resolve("model.gguf");
        assertThatThrownBy(() -> writer.put("a", GgufValue.ofString("b")).write(missingDir))
                .isInstanceOf(GgufException.class).hasMessageStartingWith(missingDir + ": cannot write");
        assertThat(dir.resolve("missing")).doesNotExist();
    }

    @Test
    void aSecondPutReplacesTheValueInItsFirstPosition() throws Exception {
        Path path = dir.resolve("m.gguf");
        writer.put("a", GgufValue.ofString("1")).put("b", GgufValue.ofString("2")).put("a", GgufValue.ofString("3"));
        writer.write(path);
        try (GgufFile file = GgufFile.open(path)) {
            assertThat(List.copyOf(file.metadata().asMap().keySet())).containsExactly("a", "b");
            assertThat(file.metadata().getString("a")).isEqualTo("3");
        }
        assertThat(Files.size(path)).isPositive();
    }
}
