package dev.pflash.runtime.backend.cuda;

import static dev.pflash.runtime.backend.cuda.CudaOpsParityTest.assertClose;
import static dev.pflash.runtime.backend.cuda.GpuTests.maxAbs;
import static dev.pflash.runtime.backend.cuda.GpuTests.randomFloats;
import static dev.pflash.runtime.backend.cuda.GpuTests.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeltaNetShape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The qwen35 hybrid-layer kernels (deltanet.cu) against the CPU backend's ops on the same inputs.
 * Every kernel computes in f32, so results differ from the CPU's by summation order, fused
 * multiply-adds and the device's expf only: relative 1e-5 of the largest value for the per-row ops.
 * The delta rule carries its state across tokens and chunks, and the two backends group the
 * products of a chunk differently (and step short calls token by token where the CPU may not);
 * the bound for it, 1e-4 of the largest value, is ten times the per-op one for those accumulated
 * differences.
 */
class CudaHybridParityTest extends GpuParityTestBase {
    private static final float ROW_OPS = 1e-5f;
    private static final float DELTA_RULE = 1e-4f;

    @Test
    void theBackendSaysItRunsHybridLayers() {
        assertThat(gpu.runsHybridLayers()).isTrue();
    }

    @Test
    void splitAndSigmoidGateMatchTheCpu() {
        int rows = 37;
        int first = 256;
        int second = 200;
        float[] packed = randomFloats(rows * (first + second), 50, 3);
        float[][] expected = run(cpu, b -> cpu.split(b[0], rows, first, second, b[1], b[2]), packed,
                new float[rows * first], new float[rows * second]);
        float[][] got = run(gpu, b -> gpu.split(b[0], rows, first, second, b[1], b[2]), packed,
                new float[rows * first], new float[rows * second]);
        assertThat(got[1]).containsExactly(expected[1]);
        assertThat(got[2]).containsExactly(expected[2]);

        int n = 100_003;
        float[] x = randomFloats(n, 51, 4);
        float[] gate = randomFloats(n, 52, 8);
        float[] mulExpected = run(cpu, b -> cpu.sigmoidMul(b[0], b[1], n), x, gate)[0];
        float[] mulGot = run(gpu, b -> gpu.sigmoidMul(b[0], b[1], n), x, gate)[0];
        assertClose(mulExpected, mulGot, ROW_OPS * maxAbs(mulExpected));
    }

    @ParameterizedTest(name = "{0} tokens")
    @ValueSource(ints = {1, 2, 3, 70})
    void causalConvolutionAndItsStateMatchTheCpu(int tokens) {
        int channels = 300;
        int kernel = 4;
        float[] x = randomFloats(tokens * channels, 53, 2);
        float[] weight = randomFloats(channels * kernel, 54, 1);
        float[] state = randomFloats((kernel - 1) * channels, 55, 2);
        float[][] expected = run(cpu, b -> cpu.causalConvSilu(b[0], tokens, channels, b[1], kernel, b[2], b[3]), x,
                weight, state, new float[x.length]);
        float[][] got = run(gpu, b -> gpu.causalConvSilu(b[0], tokens, channels, b[1], kernel, b[2], b[3]), x,
                weight, state, new float[x.length]);
        assertClose(expected[3], got[3], ROW_OPS * maxAbs(expected[3]));
        assertThat(got[2]).as("state after the call").containsExactly(expected[2]);
    }

    @Test
    void gatesMatchTheCpu() {
        int tokens = 33;
        int heads = 48;
        // Some alpha + dtBias above 20, where softplus is the identity.
        float[] alpha = randomFloats(tokens * heads, 56, 25);
        float[] beta = randomFloats(tokens * heads, 57, 10);
        float[] dtBias = randomFloats(heads, 58, 1);
        float[] a = randomFloats(heads, 59, 1);
        for (int h = 0; h < heads; h++) {
            a[h] = -Math.abs(a[h]);
        }
        float[][] expected = run(cpu, b -> cpu.deltaNetGates(b[0], b[1], b[2], b[3], tokens, heads), alpha, beta,
                dtBias, a);
        float[][] got = run(gpu, b -> gpu.deltaNetGates(b[0], b[1], b[2], b[3], tokens, heads), alpha, beta, dtBias,
                a);
        assertClose(expected[0], got[0], ROW_OPS * maxAbs(expected[0]));
        assertClose(expected[1], got[1], ROW_OPS * maxAbs(expected[1]));
    }

    @ParameterizedTest(name = "{0} rows of {1}, in place {2}")
    @CsvSource({"96, 128, true", "5, 100, false"})
    void gatedNormMatchesTheCpu(int rows, int dim, boolean inPlace) {
        float[] x = randomFloats(rows * dim, 60, 3);
        float[] w = randomFloats(dim, 61, 1);
        float[] z = randomFloats(rows * dim, 62, 4);
        int target = inPlace ? 0 : 3;
        float[] expected = run(cpu, b -> cpu.rmsNormGated(b[0], b[1], b[2], rows, dim, 1e-6f, b[target]), x, w, z,
                new float[x.length])[target];
        float[] got = run(gpu, b -> gpu.rmsNormGated(b[0], b[1], b[2], rows, dim, 1e-6f, b[target]), x, w, z,
                new float[x.length])[target];
        assertClose(expected, got, ROW_OPS * maxAbs(expected));
    }

    /**
     * Calls of the given token counts in a row from a non-zero state, each against the CPU:
     * outputs and the state left behind. One-token calls are decode (the recurrent kernel); calls
     * of CudaHybridOps.CHUNKED_MIN_TOKENS or more take the chunked form: a chunk exactly, several
     * chunks with a partial last one, more than a slab of chunks, and decode after prefill on the
     * state the chunked form wrote back. Key dims of 128 (the real models) and 48 (not a multiple
     * of a warp); value dims of 128 and 40 (not a multiple of the chunked form's column tiles);
     * value heads tiled over key heads.
     */
    @ParameterizedTest(name = "calls of {0} tokens, dk {1}, dv {2}")
    @CsvSource({"1 1 1, 128, 128", "130, 128, 128", "1 1 1, 48, 40", "70 70, 48, 40", "64 15 16, 48, 40",
            "1100, 128, 128", "100 1 1, 128, 128"})
    void deltaRuleMatchesTheCpu(String callTokens, int keyDim, int valueDim) {
        DeltaNetShape shape = new DeltaNetShape(2, 6, keyDim, valueDim, 1e-6f);
        float[] state = randomFloats(shape.stateSize(), 63, 0.5);
        float[] expectedState = state;
        float[] gotState = state;
        String[] calls = callTokens.split(" ");
        for (int call = 0; call < calls.length; call++) {
            int tokens = Integer.parseInt(calls[call]);
            float[] qkv = randomFloats(tokens * shape.channels(), 64 + call, 1);
            float[] g = randomFloats(tokens * shape.valueHeads(), 70 + call, 0.25);
            float[] beta = randomFloats(tokens * shape.valueHeads(), 80 + call, 0.5);
            for (int i = 0; i < g.length; i++) {
                g[i] = -Math.abs(g[i]);
                beta[i] += 0.5f;
            }
            float[][] expected = deltaNet(cpu, shape, tokens, qkv, g, beta, expectedState);
            float[][] got = deltaNet(gpu, shape, tokens, qkv, g, beta, gotState);
            assertClose(expected[4], got[4], DELTA_RULE * maxAbs(expected[4]));
            assertClose(expected[3], got[3], DELTA_RULE * maxAbs(expected[3]));
            expectedState = expected[3];
            gotState = got[3];
        }
    }

    private static float[][] deltaNet(Backend b, DeltaNetShape shape, int tokens, float[] qkv, float[] g,
            float[] beta, float[] state) {
        return run(b, buf -> b.deltaNet(buf[0], buf[1], buf[2], tokens, shape, buf[3], buf[4]), qkv, g, beta, state,
                new float[tokens * shape.valueWidth()]);
    }
}
