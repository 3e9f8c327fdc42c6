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
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.TensorData;
import java.util.Arrays;
import java.util.function.IntPredicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
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
@Tag(GpuTests.TAG)
class CudaOpsParityTest {
    private static CudaBackend gpu;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        gpu = GpuTests.openIfAvailable();
        if (gpu == null) {
            return;
        }
        cpu = new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors()));
    }

    @BeforeEach
    void requireGpu() {
        GpuTests.assumeGpu(gpu);
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

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

    @Test
    void aWeightLargerThanTheScratchIsMultipliedInSlices() {
        int cols = 1024;
        int rows = (int) (CudaBackend.WEIGHT_SCRATCH_BYTES / (2L * cols)) + 4000;
        int tokens = 16;
        TensorData tensor = randomTensor(GgmlType.Q8_0, cols, rows, 33);
        float[] x = randomFloats(tokens * cols, 34, 1);
        float[] expected = matmul(cpu, tensor, x, tokens, rows);
        float[] got = matmul(gpu, tensor, x, tokens, rows);
        int sliceRows = (int) (CudaBackend.WEIGHT_SCRATCH_BYTES / (2L * cols));
        assertWithinProductBound(tensor, x, tokens, expected, got, 2e-3,
                o -> o % 499 == 0 || Math.abs(o - sliceRows) < 200 || o >= rows - 200);
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
        "16, 0, 2, 1, 128",     // the fewest queries that take the flash path
        "1, 3000, 16, 8, 128",  // decode over a long cache: split over the keys
        "3, 500, 4, 2, 64",     // a few decode queries
        "40, 10, 4, 2, 96"      // a head dim without a flash kernel
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
