package dev.pflash.runtime.backend.cuda;

import static dev.pflash.runtime.backend.cuda.GpuTests.maxAbs;
import static dev.pflash.runtime.backend.cuda.GpuTests.randomFloats;
import static dev.pflash.runtime.backend.cuda.GpuTests.randomTensor;
import static dev.pflash.runtime.backend.cuda.GpuTests.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.RopeStyle;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.IntPredicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every forward-pass kernel against the CPU backend's op on the same inputs. Tolerances follow
 * from what each kernel computes in lower precision: f32 kernels differ from the CPU by float
 * summation order only (relative 1e-5); the tensor-core matrix multiply rounds both inputs to f16
 * (relative error 2^-11 each, so at most about 1e-3 of sum |w x| per output); flash attention
 * rounds q, k, v and the probabilities to f16 (a few 1e-3 of the largest value).
 */
class CudaOpsParityTest extends GpuParityTestBase {
    static Stream<Arguments> typesAndTokenCounts() {
        return Stream.of(GgmlType.values())
                .flatMap(type -> Stream.of(1, 5, 8, 9, 130).map(tokens -> Arguments.of(type, tokens)));
    }

    @ParameterizedTest(name = "{0} x {1} tokens")
    @MethodSource("typesAndTokenCounts")
    void matmulMatchesTheCpu(GgmlType type, int tokens) {
        // K-quants need whole 256-blocks; float types get a width that pads to the next 32.
        int cols = type.blockSize() > 32 ? 512 : type.isQuantized() ? 96 : 100;
        int rows = 200;
        TensorData tensor = randomTensor(type, cols, rows, 31);
        float[] x = randomFloats(tokens * cols, 32, 1);
        float[] expected = matmul(cpu, tensor, x, tokens, rows);
        float[] got = matmul(gpu, tensor, x, tokens, rows);
        double relative = tokens <= CudaBackend.MATVEC_MAX_TOKENS ? 1e-5 : 2e-3;
        assertWithinProductBound(tensor, x, tokens, expected, got, relative, o -> true);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q6_K", "Q8_0", "F16"})
    void aLongChunkIsMultipliedWithWeightTilesDequantizedInsideTheGemm(GgmlType type) {
        // Several 128-row and 128-token tiles with ragged edges, 1024 / 32 k-tiles.
        int cols = 1024;
        int rows = 300;
        int tokens = 259;
        TensorData tensor = randomTensor(type, cols, rows, 33);
        float[] x = randomFloats(tokens * cols, 34, 1);
        assertWithinProductBound(tensor, x, tokens, matmul(cpu, tensor, x, tokens, rows),
                matmul(gpu, tensor, x, tokens, rows), 2e-3, o -> true);
    }

    @Test
    void aTensorSlicedOutOfALargerHeapArrayUploadsItsOwnBytes() {
        TensorData whole = randomTensor(GgmlType.Q8_0, 256, 64, 48);
        int length = 64 * whole.rowBytes();
        byte[] padded = new byte[1000 + length];
        Arrays.fill(padded, (byte) 0x7f);
        whole.buffer(0).duplicate().position(whole.offset(0)).get(padded, 1000, length);
        // A heap buffer whose data starts 1000 bytes into its array: arrayOffset() == 1000.
        ByteBuffer slice = ByteBuffer.wrap(padded).position(1000).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(slice.arrayOffset()).isEqualTo(1000);
        TensorData sliced = TensorData.of("sliced", GgmlType.Q8_0, new long[] {256, 64}, slice);
        float[] x = randomFloats(3 * 256, 49, 1);
        assertThat(matmul(gpu, sliced, x, 3, 64)).containsExactly(matmul(gpu, whole, x, 3, 64));
        assertWithinProductBound(whole, x, 3, matmul(cpu, whole, x, 3, 64), matmul(gpu, sliced, x, 3, 64), 1e-5,
                o -> true);
    }

    @Test
    void activationsBeyondTheHalfRangeAreClampedInsteadOfTurningRowsIntoNaN() {
        int cols = 256;
        int rows = 130;
        int tokens = 40;
        TensorData tensor = randomTensor(GgmlType.Q8_0, cols, rows, 50);
        float[] x = randomFloats(tokens * cols, 51, 1);
        x[7 * cols + 3] = 1e6f;   // token 7: far past 65504, inf in plain f16
        x[9 * cols + 100] = -7e4f;
        float[] got = matmul(gpu, tensor, x, tokens, rows);
        for (float v : got) {
            assertThat(v).isFinite();
        }
        float[] expected = matmul(cpu, tensor, x, tokens, rows);
        for (int t : new int[] {0, 6, 8, 39}) {
            float[] xt = Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
            assertWithinProductBound(tensor, xt, 1, Arrays.copyOfRange(expected, t * rows, (t + 1) * rows),
                    Arrays.copyOfRange(got, t * rows, (t + 1) * rows), 2e-3, o -> true);
        }
        // Token 7 sees the clamped value: w[o][3] * 65504 plus the rest.
        float[] w = new float[cols];
        for (int o = 0; o < rows; o += 13) {
            tensor.dequantizeRow(o, w, 0);
            double bound = 0;
            double exact = 0;
            for (int i = 0; i < cols; i++) {
                double xi = i == 3 ? 65504 : x[7 * cols + i];
                bound += Math.abs(w[i] * xi);
                exact += w[i] * xi;
            }
            assertThat((double) got[7 * rows + o]).as("row %d", o).isCloseTo(exact, offset(2e-3 * bound));
        }
    }

    @Test
    void decodeStepsWithInputsAtAnOddOffsetMatchTheCpu() {
        // matvec_q with an input slice that is not 16-byte aligned takes its scalar path.
        int cols = 512;
        int rows = 77;
        TensorData tensor = randomTensor(GgmlType.Q4_K, cols, rows, 52);
        float[] x = randomFloats(3 * cols + 1, 53, 1);
        float[] expected;
        try (WeightMatrix w = cpu.upload(tensor)) {
            expected = run(cpu, b -> cpu.matmul(w, b[0].slice(1, 3 * cols), 3, b[1]), x, new float[3 * rows])[1];
        }
        float[] got;
        try (WeightMatrix w = gpu.upload(tensor)) {
            got = run(gpu, b -> gpu.matmul(w, b[0].slice(1, 3 * cols), 3, b[1]), x, new float[3 * rows])[1];
        }
        assertWithinProductBound(tensor, Arrays.copyOfRange(x, 1, x.length), 3, expected, got, 1e-5, o -> true);
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void embeddingRowsAreDequantizedAsOnTheCpu(GgmlType type) {
        int cols = type.blockSize() > 32 ? 256 : 64;
        TensorData table = randomTensor(type, cols, 50, 35);
        int[] tokens = {0, 49, 17, 17, 3};
        float[] expected = embed(cpu, table, tokens);
        float[] got = embed(gpu, table, tokens);
        float tolerance = 1e-6f * maxAbs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(got[i]).as("element %d", i).isCloseTo(expected[i], offset(tolerance));
        }
    }

    @ParameterizedTest
    @CsvSource({"7, 1000, false", "96, 128, true", "3, 64, false"})
    void rmsNormMatchesTheCpu(int rows, int dim, boolean inPlace) {
        float[] x = randomFloats(rows * dim, 36, 3);
        float[] w = randomFloats(dim, 37, 1);
        int target = inPlace ? 0 : 2;
        float[] expected = run(cpu, b -> cpu.rmsNorm(b[0], b[1], rows, dim, 1e-6f, b[target]), x, w,
                new float[x.length])[target];
        float[] got = run(gpu, b -> gpu.rmsNorm(b[0], b[1], rows, dim, 1e-6f, b[target]), x, w,
                new float[x.length])[target];
        assertClose(expected, got, 1e-5f * maxAbs(expected));
    }

    @Test
    void elementwiseOpsMatchTheCpu() {
        int n = 100_003;
        float[] a = randomFloats(n, 38, 6);
        float[] b = randomFloats(n, 39, 2);
        assertThat(run(gpu, buf -> gpu.add(buf[0], buf[1], n), a, b)[0])
                .containsExactly(run(cpu, buf -> cpu.add(buf[0], buf[1], n), a, b)[0]);
        float[] bias = randomFloats(1000, 40, 1);
        float[] x = randomFloats(37 * 1000, 41, 1);
        assertThat(run(gpu, buf -> gpu.addBias(buf[0], buf[1], 37, 1000), x, bias)[0])
                .containsExactly(run(cpu, buf -> cpu.addBias(buf[0], buf[1], 37, 1000), x, bias)[0]);
        float[] expected = run(cpu, buf -> cpu.swiglu(buf[0], buf[1], n, buf[0]), a, b)[0];
        float[] got = run(gpu, buf -> gpu.swiglu(buf[0], buf[1], n, buf[0]), a, b)[0];
        for (int i = 0; i < n; i++) {
            assertThat(got[i]).as("swiglu %d", i).isCloseTo(expected[i], offset(1e-6f * Math.max(1, Math.abs(expected[i]))));
        }
    }

    @ParameterizedTest
    @CsvSource({"NEOX, 128, 128", "ADJACENT_PAIRS, 128, 128", "NEOX, 64, 32", "ADJACENT_PAIRS, 64, 48"})
    void ropeMatchesTheCpuAtLargePositions(RopeStyle style, int headDim, int rotated) {
        RotaryEmbedding rope = RotaryEmbedding.of(style, rotated, 1_000_000, null);
        int tokens = 6;
        int heads = 3;
        int[] positions = {0, 1, 2, 5000, 65_537, 131_071};
        float[] x = randomFloats(tokens * heads * headDim, 42, 1);
        float[] expected = run(cpu, b -> cpu.rope(b[0], tokens, heads, headDim, positions, rope), x)[0];
        float[] got = run(gpu, b -> gpu.rope(b[0], tokens, heads, headDim, positions, rope), x)[0];
        assertClose(expected, got, 2e-6f);
    }

    @ParameterizedTest(name = "{0} queries after {1} cached, {2}/{3} heads of {4}")
    @CsvSource({
        "100, 0, 8, 2, 64",     // prefill: flash attention, GQA
        "70, 37, 4, 4, 128",    // a chunk after cached tokens
        "130, 300, 8, 2, 128",  // GQA 4 at d128, three query blocks, the last ragged
        "16, 0, 2, 1, 128",     // the fewest queries that take the flash path
        "1, 3000, 16, 8, 128",  // decode over a long cache: split over the keys
        "3, 500, 4, 2, 64",     // a few decode queries
        "40, 10, 4, 2, 96",     // a head dim without a flash kernel
        "64, 20000, 2, 1, 128", // a short chunk over a long cache: flash split over the keys
        "20, 9000, 4, 2, 64",   // the same for d64, a ragged query block
        "1, 3000, 32, 8, 128",  // decode, 4 query heads per kv head read each key row once
        "2, 700, 12, 2, 64",    // 6 heads per kv head: blocks of 3
        "1, 100, 16, 1, 64",    // 16 heads per kv head: blocks of 4
        "2, 300, 4, 2, 256",    // heads over 128: the 8-slot row kernel
        "1, 40, 2, 1, 160"      // the same, a head dim not a multiple of 64
    })
    void attentionMatchesTheCpu(int tokens, int firstIndex, int heads, int kvHeads, int headDim) {
        AttentionShape shape = new AttentionShape(heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)));
        int rows = firstIndex + tokens;
        float[] q = randomFloats(tokens * shape.queryDim(), 43, 2);
        float[] k = randomFloats(rows * shape.kvDim(), 44, 2);
        float[] v = randomFloats(rows * shape.kvDim(), 45, 1);
        float[] out = new float[tokens * shape.queryDim()];
        float[] expected = run(cpu, b -> cpu.attention(b[0], b[1], b[2], tokens, firstIndex, shape, b[3]), q, k, v,
                out)[3];
        float[] got = run(gpu, b -> gpu.attention(b[0], b[1], b[2], tokens, firstIndex, shape, b[3]), q, k, v, out)[3];
        boolean flash = tokens >= CudaBackend.FLASH_MIN_QUERIES && (headDim == 64 || headDim == 128);
        assertClose(expected, got, (flash ? 5e-3f : 1e-5f) * maxAbs(v));
    }

    @Test
    void flashAttentionOverValuesBeyondTheHalfRangeStaysFinite() {
        // Queries, keys and values are staged in f16: clamped to +-65504 there, never inf (whose
        // products would make the row's softmax NaN).
        AttentionShape shape = new AttentionShape(2, 1, 64, 0.125f);
        int tokens = 32;
        float[] q = randomFloats(tokens * shape.queryDim(), 57, 1);
        float[] k = randomFloats(tokens * shape.kvDim(), 58, 1);
        float[] v = randomFloats(tokens * shape.kvDim(), 59, 1);
        q[5 * shape.queryDim() + 3] = 3e6f;  // x 0.125 is still beyond 65504
        k[2 * shape.kvDim() + 7] = -1e5f;
        v[4 * shape.kvDim() + 9] = 2e5f;
        float[] got = run(gpu, b -> gpu.attention(b[0], b[1], b[2], tokens, 0, shape, b[3]), q, k, v,
                new float[tokens * shape.queryDim()])[3];
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).as("element %d", i).isFinite();
        }
    }

    @Test
    void backToBackUploadsOfTokensAndPositionsKeepEachCallsOwnValues() {
        // Token ids and positions reach the device by copies queued on the stream, without the
        // host waiting: calls queued back to back must each see their own values.
        RotaryEmbedding rope = RotaryEmbedding.of(RopeStyle.NEOX, 64, 10_000, null);
        TensorData table = randomTensor(GgmlType.Q8_0, 64, 40, 54);
        try (WeightMatrix w = gpu.upload(table); WeightMatrix wc = cpu.upload(table)) {
            DeviceBuffer[] g = new DeviceBuffer[6];
            DeviceBuffer[] c = new DeviceBuffer[6];
            try {
                for (int i = 0; i < g.length; i++) {
                    int[] tokens = {i, 39 - i, 2 * i, 7};
                    int[] positions = {i, 100 * i, 5000 + i, 3};
                    g[i] = gpu.allocate(4 * 64);
                    c[i] = cpu.allocate(4 * 64);
                    gpu.embed(w, tokens, g[i]);
                    cpu.embed(wc, tokens, c[i]);
                    gpu.rope(g[i], 4, 1, 64, positions, rope);
                    cpu.rope(c[i], 4, 1, 64, positions, rope);
                }
                for (int i = 0; i < g.length; i++) {
                    float[] got = new float[4 * 64];
                    float[] expected = new float[4 * 64];
                    gpu.read(g[i], got, 0);
                    cpu.read(c[i], expected, 0);
                    assertClose(expected, got, 2e-6f);
                }
            } finally {
                for (int i = 0; i < g.length; i++) {
                    if (g[i] != null) {
                        g[i].close();
                    }
                    if (c[i] != null) {
                        c[i].close();
                    }
                }
            }
        }
    }

    @Test
    void ropeTablesAreAccountedAsDeviceMemory() {
        RotaryEmbedding rope = RotaryEmbedding.of(RopeStyle.NEOX, 96, 123_456, null);
        long before = gpu.memory().held(CudaMemory.Use.BUFFERS);
        try (DeviceBuffer x = gpu.upload(randomFloats(2 * 96, 56, 1))) {
            long withBuffer = gpu.memory().held(CudaMemory.Use.BUFFERS);
            gpu.rope(x, 2, 1, 96, new int[] {1, 2}, rope);
            assertThat(gpu.memory().held(CudaMemory.Use.BUFFERS) - withBuffer).isEqualTo(48L * Double.BYTES);
        }
        assertThat(gpu.memory().held(CudaMemory.Use.BUFFERS)).isEqualTo(before + 48L * Double.BYTES);
    }

    @Test
    void buffersAndWeightsOfAnotherBackendAreRejected() {
        TensorData tensor = randomTensor(GgmlType.F32, 32, 4, 46);
        try (WeightMatrix w = cpu.upload(tensor); DeviceBuffer x = gpu.allocate(32); DeviceBuffer out = gpu.allocate(4)) {
            assertThatThrownBy(() -> gpu.matmul(w, x, 1, out)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("does not belong to this CUDA backend");
        }
        try (DeviceBuffer onCpu = cpu.allocate(8); DeviceBuffer onGpu = gpu.allocate(8)) {
            assertThatThrownBy(() -> gpu.add(onGpu, onCpu, 8)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("does not belong to this CUDA backend");
        }
    }

    @Test
    void buffersRoundTripAndSlicesAddressTheirWindow() {
        float[] values = randomFloats(1000, 47, 1);
        try (DeviceBuffer b = gpu.upload(values); DeviceBuffer copy = gpu.allocate(1000)) {
            gpu.copy(b.slice(100, 50), copy.slice(10, 50));
            float[] back = new float[1000];
            gpu.read(copy, back, 0);
            for (int i = 0; i < 1000; i++) {
                assertThat(back[i]).isEqualTo(i >= 10 && i < 60 ? values[90 + i] : 0f);
            }
            gpu.write(values, 500, b.slice(0, 10));
            float[] head = new float[10];
            gpu.read(b.slice(0, 10), head, 0);
            assertThat(head).containsExactly(Arrays.copyOfRange(values, 500, 510));
        }
    }

    @Test
    void runningOutOfDeviceMemorySaysHowMuchAndWhatToLower() {
        long tooMuch = gpu.device().totalMemory() * 2;
        assertThatThrownBy(() -> gpu.memory().allocate(tooMuch, CudaMemory.Use.BUFFERS, "a test buffer"))
                .isInstanceOf(DeviceOutOfMemoryException.class)
                .hasMessageStartingWith("CUDA device " + gpu.device().name() + " is out of memory: "
                        + CudaMemory.gib(tooMuch) + " needed for a test buffer")
                .hasMessageContaining("Lower what lives on the device")
                .hasMessageContaining("--backend=cpu");
    }

    private static float[] matmul(Backend b, TensorData tensor, float[] x, int tokens, int rows) {
        try (WeightMatrix w = b.upload(tensor)) {
            return run(b, buf -> b.matmul(w, buf[0], tokens, buf[1]), x, new float[tokens * rows])[1];
        }
    }

    private static float[] embed(Backend b, TensorData table, int[] tokens) {
        try (WeightMatrix w = b.upload(table)) {
            return run(b, buf -> b.embed(w, tokens, buf[0]), new float[tokens.length * w.cols()])[0];
        }
    }

    /**
     * |got - expected| <= relative * sum_i |w[o][i] x[t][i]| (+ a floor for all-zero rows) for every
     * token and each weight row {@code o} that {@code rowsToCheck} accepts.
     */
    private static void assertWithinProductBound(TensorData tensor, float[] x, int tokens, float[] expected,
            float[] got, double relative, IntPredicate rowsToCheck) {
        int cols = tensor.rowLength();
        int rows = (int) tensor.rowCount();
        float[] w = new float[cols];
        for (int o = 0; o < rows; o++) {
            if (!rowsToCheck.test(o)) {
                continue;
            }
            tensor.dequantizeRow(o, w, 0);
            for (int t = 0; t < tokens; t++) {
                double bound = 0;
                for (int i = 0; i < cols; i++) {
                    bound += Math.abs((double) w[i] * x[t * cols + i]);
                }
                assertThat((double) got[t * rows + o]).as("token %d row %d", t, o)
                        .isCloseTo(expected[t * rows + o], offset(relative * bound + 1e-30));
            }
        }
    }

    static void assertClose(float[] expected, float[] got, float tolerance) {
        assertThat(got).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(got[i]).as("element %d", i).isCloseTo(expected[i], offset(tolerance));
        }
    }
}
