package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.util.stream.IntStream;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API matmul against the scalar reference kernel, for every weight type, with rows
 * and token counts that leave tails. The two sum the same products in different orders, so they
 * agree within float rounding of the sum: 2e-6 of {@code sum_i |w_i x_i|} per output. The types
 * that are repacked ({@link InterleavedWeights}) run both ways: repacked and, as when the heap has
 * no room for that, on the file's layout.
 */
class VectorMatmulTest {
    private static final double TOLERANCE = 2e-6;
    private static CpuBackend vector;
    private static CpuBackend scalar;
    /** Vector kernels on matrices left in the file's layout. */
    private static CpuBackend unpacked;

    @BeforeAll
    static void startBackends() {
        vector = CpuBackends.withKernels("vector", 2);
        scalar = CpuBackends.withKernels("scalar", 2);
        unpacked = CpuBackends.withKernels("vector", 2, false);
        assertThat(vector.vectorKernels()).isTrue();
        assertThat(scalar.vectorKernels()).isFalse();
    }

    @AfterAll
    static void stopBackends() {
        vector.close();
        scalar.close();
        unpacked.close();
    }

    static Stream<Arguments> typesRowLengthsAndTokens() {
        int[] tokens = IntStream.concat(IntStream.rangeClosed(1, 20), IntStream.of(41, 67)).toArray();
        return Stream.of(GgmlType.values()).flatMap(type -> rowLengths(type).flatMap(cols ->
                Arrays.stream(tokens).mapToObj(t -> Arguments.of(type, cols, t))));
    }

    /** Row lengths that are and are not multiples of the vector width, in whole blocks of the type. */
    private static Stream<Integer> rowLengths(GgmlType type) {
        if (type.blockSize() > 32) {
            return Stream.of(256, 768);
        }
        if (type.blockSize() == 32) {
            return Stream.of(32, 96, 160);
        }
        return Stream.of(3, 37, 64, 100);
    }

    @ParameterizedTest(name = "{0} rows of {1} x {2} tokens")
    @MethodSource("typesRowLengthsAndTokens")
    void vectorEqualsScalarWithinRounding(GgmlType type, int cols, int tokens) {
        assertVectorEqualsScalarWithinRounding(vector, type, cols, tokens);
        if (InterleavedWeights.handles(type)) {
            assertVectorEqualsScalarWithinRounding(unpacked, type, cols, tokens);
        }
    }

    private static void assertVectorEqualsScalarWithinRounding(CpuBackend backend, GgmlType type, int cols,
            int tokens) {
        int rows = 23;
        TensorData tensor = randomTensor(type, cols, rows, 31L * cols + tokens);
        float[] x = randomFloats(tokens * cols, 7L * tokens + cols);
        float[] got = multiply(backend, tensor, x, tokens);
        float[] want = multiply(scalar, tensor, x, tokens);
        float[] w = tensor.toFloatArray();
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < rows; o++) {
                double magnitude = 0;
                for (int i = 0; i < cols; i++) {
                    magnitude += Math.abs((double) w[o * cols + i] * x[t * cols + i]);
                }
                assertThat((double) got[t * rows + o]).as("%s token %d row %d", backend, t, o)
                        .isCloseTo(want[t * rows + o], offset(TOLERANCE * magnitude + 1e-30));
            }
        }
    }

    /**
     * On repacked weights every output, in calls of any size (the row-lane kernels below a panel,
     * the panels from one), is one chain of fused multiply-adds over k = 0, 1, 2, ... of the
     * dequantized weights: exactly {@code Math.fma} in that order. Row counts that leave a group or a
     * unit of groups partly padded. Besides quantized floats, raw random blocks with every finite f16
     * scale and min: the repacked weights must be the reference floats for any bits a file holds.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void repackedWeightsGiveOneChainOfMultiplyAddsPerOutputInCallsOfAnySize(GgmlType type) {
        int[] tokenCounts = {1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 31, 32, 40};
        int[] rowLengths = type.blockSize() > 32 ? new int[] {256, 1024} : new int[] {32, 96, 1024};
        for (int rows : new int[] {1, 17, 100}) {
            for (int cols : rowLengths) {
                for (boolean raw : new boolean[] {false, true}) {
                    TensorData tensor = raw ? rawTensor(type, cols, rows, 3L * rows + cols)
                            : randomTensor(type, cols, rows, 13L * rows + cols);
                    assertThat(((CpuWeightMatrix) vector.upload(tensor)).interleaved()).isNotNull();
                    float[] w = tensor.toFloatArray();
                    for (int tokens : tokenCounts) {
                        float[] x = randomFloats(tokens * cols, 17L * tokens + rows);
                        float[] got = multiply(vector, tensor, x, tokens);
                        for (int t = 0; t < tokens; t++) {
                            for (int o = 0; o < rows; o++) {
                                float acc = 0;
                                for (int k = 0; k < cols; k++) {
                                    acc = Math.fma(w[o * cols + k], x[t * cols + k], acc);
                                }
                                assertThat(got[t * rows + o]).as("%s%s, %d rows of %d, %d tokens: token %d row %d",
                                        type, raw ? " raw" : "", rows, cols, tokens, t, o).isEqualTo(acc);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Random bytes for every block of {@code type}, with each f16 field (scale, min) set to a random
     * finite f16, subnormals included.
     */
    private static TensorData rawTensor(GgmlType type, int cols, int rows, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] bytes = new byte[Math.toIntExact(type.byteSize((long) cols * rows))];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        int blockBytes = Math.toIntExact(type.byteSize(type.blockSize()));
        int[] halves = switch (type) {
            case Q6_K -> new int[] {208};
            case Q4_K, Q5_K -> new int[] {0, 2};
            default -> new int[] {0};
        };
        for (int b = 0; b < bytes.length; b += blockBytes) {
            for (int at : halves) {
                int bits = random.nextInt(0x7C00) | (random.nextBoolean() ? 0x8000 : 0);
                bytes[b + at] = (byte) bits;
                bytes[b + at + 1] = (byte) (bits >>> 8);
            }
        }
        return TensorData.of("raw", type, new long[] {cols, rows},
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void onlyQuantizedMatricesAreRepackedWithinHalfTheHeapAndWhileAQuarterStaysFree() {
        assertThat(CpuBackend.heapHolds(500, 0, 750, 1000)).isTrue();
        assertThat(CpuBackend.heapHolds(501, 0, 750, 1000)).isFalse();
        assertThat(CpuBackend.heapHolds(0, 0, 200, 1000)).isFalse();
        assertThat(CpuBackend.heapHolds(100, 400, 900, 1000)).isTrue();
        assertThat(CpuBackend.heapHolds(101, 400, 900, 1000)).isFalse();
        for (GgmlType type : GgmlType.values()) {
            TensorData tensor = randomTensor(type, testRowLength(type), 20, 2);
            boolean quantized = type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.BF16;
            assertThat(((CpuWeightMatrix) vector.upload(tensor)).interleaved() != null).as("%s", type)
                    .isEqualTo(quantized);
            assertThat(((CpuWeightMatrix) unpacked.upload(tensor)).interleaved()).as("%s", type).isNull();
            assertThat(((CpuWeightMatrix) scalar.upload(tensor)).interleaved()).as("%s", type).isNull();
            assertThat(((CpuWeightMatrix) vector.uploadTable(tensor)).interleaved()).as("%s table", type).isNull();
        }
    }

    @Test
    void aTokenGetsTheSameBitsAloneOrAmongOthersForEveryType() {
        int few = VectorMatmul.PANEL_TOKENS - 1;
        for (GgmlType type : GgmlType.values()) {
            int cols = testRowLength(type);
            int rows = 41;
            TensorData tensor = randomTensor(type, cols, rows, 5);
            float[] x = randomFloats(few * cols, 6);
            float[] all = multiply(vector, tensor, x, few);
            for (int t = 0; t < few; t++) {
                float[] one = multiply(vector, tensor, Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1);
                assertThat(one).as("%s token %d", type, t)
                        .containsExactly(Arrays.copyOfRange(all, t * rows, (t + 1) * rows));
            }
        }
    }

    /** Among panels of tokens a token's lane is its own: the same bits in any panel, at any place in it. */
    @Test
    void aTokenGetsTheSameBitsInAnyPanelForEveryType() {
        int panel = VectorMatmul.PANEL_TOKENS;
        int many = 2 * panel + 5;
        int from = 3;
        for (GgmlType type : GgmlType.values()) {
            int cols = testRowLength(type);
            int rows = 41;
            TensorData tensor = randomTensor(type, cols, rows, 8);
            float[] x = randomFloats(many * cols, 9);
            float[] all = multiply(vector, tensor, x, many);
            float[] slice = multiply(vector, tensor, Arrays.copyOfRange(x, from * cols, (from + panel) * cols), panel);
            assertThat(slice).as("%s tokens %d..%d", type, from, from + panel)
                    .containsExactly(Arrays.copyOfRange(all, from * rows, (from + panel) * rows));
        }
    }

    private static int testRowLength(GgmlType type) {
        return type.blockSize() > 32 ? 512 : type.blockSize() == 32 ? 96 : 37;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16"})
    void vectorDequantizationGivesTheReferenceFloatsExactly(GgmlType type) {
        TensorData tensor = randomTensor(type, 768, 9, 8);
        CpuWeightMatrix w = new CpuWeightMatrix(tensor);
        CpuScratch scratch = new CpuScratch();
        for (int row = 0; row < 9; row++) {
            float[] want = new float[768];
            tensor.dequantizeRow(row, want, 0);
            float[] got = new float[768 + 5];
            VectorDequantize.row(scratch, w, row, got, 5);
            assertThat(Arrays.copyOfRange(got, 5, got.length)).as("row %d", row).containsExactly(want);
        }
    }

    /**
     * Every 16-bit pattern (subnormals, infinities, NaNs, both signs) in rows of 771 values, so that
     * each row ends in a tail shorter than a vector, against the reference conversion bit for bit.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void vectorDequantizationOfSixteenBitFloatsIsExactForEveryBitPattern(GgmlType type) {
        int cols = 771;
        int rows = (1 << 16) / cols + 1;
        ByteBuffer bytes = ByteBuffer.allocate(2 * cols * rows).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < cols * rows; i++) {
            bytes.putShort((short) (i * 40503));
        }
        TensorData tensor = TensorData.of("w", type, new long[] {cols, rows}, bytes.flip());
        CpuWeightMatrix w = new CpuWeightMatrix(tensor);
        CpuScratch scratch = new CpuScratch();
        for (int row = 0; row < rows; row++) {
            float[] want = new float[cols];
            tensor.dequantizeRow(row, want, 0);
            float[] got = new float[cols];
            VectorDequantize.row(scratch, w, row, got, 0);
            for (int i = 0; i < cols; i++) {
                if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                    throw new AssertionError(type + " row " + row + " value " + i + ": " + got[i] + " (bits "
                            + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), reference " + want[i]
                            + " (bits " + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ")");
                }
            }
        }
    }

    /** Values whose float sum depends on the order of the additions; run until C2 has compiled laneSum. */
    @Test
    void laneSumAddsTheLanesInOrderBeforeAndAfterCompilation() {
        SplittableRandom random = new SplittableRandom(3);
        float[] v = new float[VectorMatmul.LANES];
        for (int round = 0; round < 50_000; round++) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextDouble(-1, 1) * Math.pow(10, random.nextInt(-6, 7)));
            }
            float inOrder = 0;
            for (float f : v) {
                inOrder += f;
            }
            float got = VectorMatmul.laneSum(FloatVector.fromArray(VectorMatmul.F, v, 0));
            if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(inOrder)) {
                throw new AssertionError("round " + round + ": lanes " + Arrays.toString(v) + " sum to " + got
                        + ", in order " + inOrder);
            }
        }
    }

    static float[] multiply(CpuBackend backend, TensorData tensor, float[] x, int tokens) {
        WeightMatrix w = backend.upload(tensor);
        DeviceBuffer in = backend.upload(x);
        DeviceBuffer out = backend.allocate(tokens * w.rows());
        backend.matmul(w, in, tokens, out);
        float[] got = new float[tokens * w.rows()];
        backend.read(out, got, 0);
        return got;
    }

    /**
     * Weights whose groups of 16 differ in scale (1/64 to 1) and in offset, so that the sub-block
     * scales and mins of the K-quants take small and large 6-bit values alike: with weights of one
     * scale all of them came out near 63, and a wrong bit in their unpacking went unseen.
     */
    static TensorData randomTensor(GgmlType type, int cols, int rows, long seed) {
        float[] w = randomFloats(cols * rows, seed);
        SplittableRandom random = new SplittableRandom(seed + 1);
        for (int g = 0; g < w.length; g += 16) {
            float scale = (float) Math.pow(64, -random.nextDouble());
            float offset = (float) (random.nextDouble() * scale);
            for (int i = g; i < Math.min(w.length, g + 16); i++) {
                w[i] = w[i] * scale + offset;
            }
        }
        return TensorData.of("w", type, new long[] {cols, rows}, Quantize.quantize(type, w));
    }

    static float[] randomFloats(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return v;
    }
}
