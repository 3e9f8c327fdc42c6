package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every matmul kernel and weight type against dequantize-then-multiply in double. */
class CpuMatmulTest {
    private static final int ROWS = 37;
    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(3);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    static Stream<Arguments> typesAndTokenCounts() {
        return Stream.of(GgmlType.values())
                .flatMap(type -> Stream.of(1, 3, 17, 40).map(tokens -> Arguments.of(type, tokens)));
    }

    @ParameterizedTest(name = "{0} x {1} tokens")
    @MethodSource("typesAndTokenCounts")
    void equalsDequantizeThenMultiply(GgmlType type, int tokens) {
        // K-quants need rows of whole 256-element blocks.
        int cols = type.blockSize() > 32 ? 512 : 96;
        TensorData tensor = randomTensor(type, cols, ROWS, 21);
        float[] x = randomFloats(tokens * cols, 22);
        float[] got = multiply(tensor, x, tokens);
        assertMatchesReference(tensor.toFloatArray(), cols, x, tokens, got);
    }

    @Test
    void rowsWhoseLengthIsNotAMultipleOfFourUseTheTailLoops() {
        int cols = 37;
        float[] w = randomFloats(cols * 5, 23);
        TensorData tensor = TensorData.of("odd", GgmlType.F32, new long[] {cols, 5}, Quantize.quantize(GgmlType.F32, w));
        for (int tokens : new int[] {1, 6, 18}) {
            float[] x = randomFloats(tokens * cols, 24);
            assertMatchesReference(w, cols, x, tokens, multiply(tensor, x, tokens));
        }
    }

    /**
     * Calls of fewer than {@link VectorMatmul#PANEL_TOKENS} tokens (decode steps) and calls of that
     * many or more (prefill) each give a token the same bits whatever else shares the call; the two
     * kinds add a row's products in different orders, so across them only the values agree.
     */
    @ParameterizedTest(name = "{0} with rows of {1}")
    @CsvSource({"Q4_K, 256", "Q8_0, 96", "F32, 37", "F32, 44", "F16, 12", "F32, 3"})
    void aTokenGetsTheSameBitsWhateverTheNumberOfTokensBesideIt(GgmlType type, int cols) {
        int panel = VectorMatmul.PANEL_TOKENS;
        int many = 2 * panel + 7;
        TensorData tensor = randomTensor(type, cols, ROWS, 25);
        float[] x = randomFloats(many * cols, 26);
        float[] all = multiply(tensor, x, many);
        float[] few = multiply(tensor, x, panel - 1);
        for (int t : new int[] {0, 5, panel - 2}) {
            float[] one = multiply(tensor, Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1);
            assertThat(one).as("token %d alone and among %d", t, panel - 1)
                    .containsExactly(Arrays.copyOfRange(few, t * ROWS, (t + 1) * ROWS));
            assertMatchesReference(tensor.toFloatArray(), cols, Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1,
                    Arrays.copyOfRange(all, t * ROWS, (t + 1) * ROWS));
        }
        int from = panel + 3;
        float[] slice = multiply(tensor, Arrays.copyOfRange(x, from * cols, many * cols), many - from);
        for (int t = from; t < many; t++) {
            assertThat(Arrays.copyOfRange(slice, (t - from) * ROWS, (t - from + 1) * ROWS))
                    .as("token %d among %d and among %d", t, many, many - from)
                    .containsExactly(Arrays.copyOfRange(all, t * ROWS, (t + 1) * ROWS));
        }
    }

    @Test
    void mismatchedBuffersAreRejected() {
        TensorData tensor = randomTensor(GgmlType.Q8_0, 64, 4, 27);
        WeightMatrix w = backend.upload(tensor);
        assertThat(w.rows()).isEqualTo(4);
        assertThat(w.cols()).isEqualTo(64);
        assertThat(w.bytes()).isEqualTo(4 * 2 * 34);
        DeviceBuffer x = backend.allocate(64 * 2);
        assertThatThrownBy(() -> backend.matmul(w, x, 3, backend.allocate(12)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("matmul input for w: buffer of 128 floats, needs 192");
        assertThatThrownBy(() -> backend.matmul(w, x, 2, backend.allocate(7)))
                .hasMessage("matmul output for w: buffer of 7 floats, needs 8");
    }

    private static float[] multiply(TensorData tensor, float[] x, int tokens) {
        return VectorMatmulTest.multiply(backend, tensor, x, tokens);
    }

    /** Within 1e-4 of the magnitude sum_i |w_i x_i| (float rounding of a sum of that size), per output. */
    private static void assertMatchesReference(float[] w, int cols, float[] x, int tokens, float[] got) {
        int rows = w.length / cols;
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < rows; o++) {
                double sum = 0;
                double magnitude = 0;
                for (int i = 0; i < cols; i++) {
                    double p = (double) w[o * cols + i] * x[t * cols + i];
                    sum += p;
                    magnitude += Math.abs(p);
                }
                assertThat((double) got[t * rows + o]).as("token %d row %d", t, o)
                        .isCloseTo(sum, offset(1e-4 * magnitude + 1e-30));
            }
        }
    }

    static TensorData randomTensor(GgmlType type, int cols, int rows, long seed) {
        long elements = (long) cols * rows;
        ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSize(elements)).order(ByteOrder.LITTLE_ENDIAN);
        Quantize.fillRandom(type, bytes, elements, new SplittableRandom(seed), 1f);
        return TensorData.of("w", type, new long[] {cols, rows}, bytes);
    }

    static float[] randomFloats(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(-1, 1);
        }
        return v;
    }
}
