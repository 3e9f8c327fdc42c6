package dev.pflash.runtime.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensors over 2 GiB are mapped in several pieces of whole rows. A file that big is too slow for
 * unit tests, so the piece size is forced small here and a tensor spans many mappings.
 */
class GgufFileMappingTest {
    @TempDir
    Path dir;

    @Test
    void aTensorSplitIntoManyMappingsReadsLikeOneMapping() {
        int rows = 37;
        int rowBytes = 8 * 34; // 256 Q8_0 elements
        ByteBuffer q8 = ByteBuffer.allocate(rows * rowBytes);
        Quantize.fillRandom(GgmlType.Q8_0, q8, 256L * rows, new SplittableRandom(1), 1f);
        ByteBuffer q6 = ByteBuffer.allocate(3 * 5 * 210); // rows of 1280 elements: 1050 bytes each
        Quantize.fillRandom(GgmlType.Q6_K, q6, 1280L * 3, new SplittableRandom(2), 1f);
        Path path = dir.resolve("split.gguf");
        new GgufWriter().addTensor("small", GgmlType.F32, new long[] {3}, Quantize.quantize(GgmlType.F32, new float[] {1, 2, 3}))
                .addTensor("q8", GgmlType.Q8_0, new long[] {256, rows}, q8)
                .addTensor("q6", GgmlType.Q6_K, new long[] {1280, 3}, q6)
                .write(path);

        try (GgufFile whole = GgufFile.open(path); GgufFile split = GgufFile.open(path, 1000)) {
            TensorData a = whole.tensor("q8");
            TensorData b = split.tensor("q8");
            // 1000 / 272 = 3 rows per mapping: 13 mappings for 37 rows.
            assertThat(a.buffer(0)).isSameAs(a.buffer(rows - 1));
            assertThat(b.buffer(0)).isSameAs(b.buffer(2)).isNotSameAs(b.buffer(3));
            assertThat(b.offset(4)).isEqualTo(rowBytes);
            assertThat(b.buffer(36).capacity()).isEqualTo(rowBytes);
            assertSameRows(a, b);
            // A row larger than the piece size gets a mapping of its own.
            TensorData c = split.tensor("q6");
            assertThat(c.buffer(1)).isNotSameAs(c.buffer(0)).isNotSameAs(c.buffer(2));
            assertThat(c.offset(2)).isZero();
            assertSameRows(whole.tensor("q6"), c);
            assertThat(split.tensor("small").toFloatArray()).containsExactly(1f, 2f, 3f);
        }
    }

    private static void assertSameRows(TensorData a, TensorData b) {
        assertThat(b.rowCount()).isEqualTo(a.rowCount());
        float[] ra = new float[a.rowLength()];
        float[] rb = new float[b.rowLength()];
        for (long r = 0; r < a.rowCount(); r++) {
            byte[] bytesA = new byte[a.rowBytes()];
            byte[] bytesB = new byte[b.rowBytes()];
            a.buffer(r).get(a.offset(r), bytesA);
            b.buffer(r).get(b.offset(r), bytesB);
            assertThat(bytesB).as("row %d", r).isEqualTo(bytesA);
            a.dequantizeRow(r, ra, 0);
            b.dequantizeRow(r, rb, 0);
            assertThat(rb).as("row %d", r).containsExactly(ra);
        }
    }

    @Test
    void tensorsAreNotAvailableAfterClose() {
        Path path = dir.resolve("closed.gguf");
        new GgufWriter().addTensor("t", GgmlType.F32, new long[] {1}, ByteBuffer.allocate(4)).write(path);
        GgufFile file = GgufFile.open(path);
        file.close();
        assertThatThrownBy(() -> file.findTensor("t")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
