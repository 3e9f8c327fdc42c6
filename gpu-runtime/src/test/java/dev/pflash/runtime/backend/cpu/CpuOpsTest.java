package dev.pflash.runtime.backend.cpu;

import static dev.pflash.runtime.backend.cpu.CpuMatmulTest.randomFloats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.RopeStyle;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.TensorData;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The elementwise, normalization, RoPE, embedding and attention ops against plain formulas. */
class CpuOpsTest {
    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(3);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @Test
    void rmsNormScalesEachRowByItsRootMeanSquare() {
        float[] x = {1, 2, 3, 4, -2, 0, 0, 2};
        float[] w = {1, 0.5f, 2, 1};
        float[] out = run(b -> backend.rmsNorm(b[0], b[1], 2, 4, 1e-6f, b[2]), x, w, new float[8])[2];
        double r0 = 1 / Math.sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
        double r1 = 1 / Math.sqrt((4 + 0 + 0 + 4) / 4.0 + 1e-6);
        double[] expected = {r0, r0, 6 * r0, 4 * r0, -2 * r1, 0, 0, 2 * r1};
        for (int i = 0; i < 8; i++) {
            assertThat((double) out[i]).isCloseTo(expected[i], offset(1e-6));
        }
    }

    @Test
    void rmsNormWorksInPlaceOverHeads() {
        float[] x = randomFloats(3 * 4 * 6, 1);
        float[] w = randomFloats(6, 2);
        float[] separate = run(b -> backend.rmsNorm(b[0], b[1], 12, 6, 1e-5f, b[2]), x, w, new float[x.length])[2];
        float[] inPlace = run(b -> backend.rmsNorm(b[0], b[1], 12, 6, 1e-5f, b[0]), x, w)[0];
        assertThat(inPlace).containsExactly(separate);
    }

    @Test
    void biasesResidualsAndSwiglu() {
        float[] x = {1, 2, 3, 4, 5, 6};
        assertThat(run(b -> backend.addBias(b[0], b[1], 2, 3), x, new float[] {10, 20, 30})[0])
                .containsExactly(11, 22, 33, 14, 25, 36);
        assertThat(run(b -> backend.add(b[0], b[1], 4), x, new float[] {1, 1, 1, 1, 1, 1})[0])
                .containsExactly(2, 3, 4, 5, 5, 6);
        float[] gate = {-2, 0, 1.5f};
        float[] up = {3, 4, -2};
        float[] out = run(b -> backend.swiglu(b[0], b[1], 3, b[0]), gate, up)[0];
        for (int i = 0; i < 3; i++) {
            double silu = gate[i] / (1 + Math.exp(-gate[i]));
            assertThat((double) out[i]).isCloseTo(silu * up[i], offset(1e-6));
        }
    }

    /**
     * Both kernel families against {@code z / (1 + e^-z) * u} in doubles, over gates from -100 to
     * 100 (where {@code e^-z} overflows a float for the naive form) and a count that is no multiple
     * of a vector: within 4 ulp of the float result (plus 1e-30 for results that underflow). An
     * element's value does not depend on where it sits: the same gates one element further on give
     * the same bits.
     */
    @ParameterizedTest
    @CsvSource({"vector", "scalar"})
    void swigluIsWithinFourUlpForEveryGateAndTheSameAtAnyOffset(String kernels) {
        int n = 1003;
        float[] gate = new float[n];
        float[] noise = randomFloats(n, 11);
        for (int i = 0; i < n; i++) {
            gate[i] = i % 7 == 0 ? (i - 500) / 5f : noise[i] * 12;
        }
        gate[1] = 0f;
        gate[2] = -0f;
        gate[3] = -87.5f;
        float[] up = randomFloats(n, 12);
        try (CpuBackend b = CpuBackends.withKernels(kernels, 3)) {
            float[] out = swiglu(b, gate, up);
            for (int i = 0; i < n; i++) {
                double expected = gate[i] / (1 + Math.exp(-(double) gate[i])) * up[i];
                assertThat((double) out[i]).as("gate %s", gate[i])
                        .isCloseTo(expected, offset(4 * Math.ulp((float) expected) + 1e-30));
            }
            float[] shifted = swiglu(b, Arrays.copyOfRange(gate, 1, n), Arrays.copyOfRange(up, 1, n));
            assertThat(shifted).containsExactly(Arrays.copyOfRange(out, 1, n));
        }
    }

    private static float[] swiglu(CpuBackend b, float[] gate, float[] up) {
        DeviceBuffer g = b.upload(gate);
        DeviceBuffer u = b.upload(up);
        DeviceBuffer o = b.allocate(gate.length);
        b.swiglu(g, u, gate.length, o);
        float[] out = new float[gate.length];
        b.read(o, out, 0);
        return out;
    }

    @Test
    void elementwiseOpsSplitOverThreadsCoverEveryElement() {
        int n = 200_003;
        float[] a = randomFloats(n, 3);
        float[] b = randomFloats(n, 4);
        float[] sum = run(buf -> backend.add(buf[0], buf[1], n), a, b)[0];
        for (int i = 0; i < n; i++) {
            assertThat(sum[i]).isEqualTo(a[i] + b[i]);
        }
    }

    @ParameterizedTest
    @CsvSource({"NEOX, 8", "ADJACENT_PAIRS, 8", "NEOX, 6", "ADJACENT_PAIRS, 4"})
    void ropeRotatesThePairsOfItsStyle(RopeStyle style, int ropeDims) {
        int heads = 2;
        int dim = 8;
        int[] positions = {0, 3, 1000};
        float[] divisors = new float[ropeDims / 2];
        for (int i = 0; i < divisors.length; i++) {
            divisors[i] = 1 + i;
        }
        RotaryEmbedding rope = RotaryEmbedding.of(style, ropeDims, 10000, divisors);
        float[] x = randomFloats(positions.length * heads * dim, 5);
        float[] got = run(b -> backend.rope(b[0], positions.length, heads, dim, positions, rope), x)[0];
        for (int t = 0; t < positions.length; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * dim;
                double[] expected = new double[dim];
                for (int i = 0; i < dim; i++) {
                    expected[i] = x[base + i];
                }
                for (int i = 0; i < ropeDims / 2; i++) {
                    double theta = positions[t] * Math.pow(10000, -2.0 * i / ropeDims) / (1 + i);
                    int a = style == RopeStyle.NEOX ? i : 2 * i;
                    int c = style == RopeStyle.NEOX ? i + ropeDims / 2 : 2 * i + 1;
                    expected[a] = x[base + a] * Math.cos(theta) - x[base + c] * Math.sin(theta);
                    expected[c] = x[base + a] * Math.sin(theta) + x[base + c] * Math.cos(theta);
                }
                for (int i = 0; i < dim; i++) {
                    assertThat((double) got[base + i]).as("token %d head %d dim %d", t, h, i)
                            .isCloseTo(expected[i], offset(2e-6));
                }
            }
        }
    }

    @Test
    void ropeFactoryRejectsBadParameters() {
        assertThatThrownBy(() -> RotaryEmbedding.of(RopeStyle.NEOX, 7, 10000, null))
                .hasMessage("RoPE dimension count must be positive and even, got 7");
        assertThatThrownBy(() -> RotaryEmbedding.of(RopeStyle.NEOX, 8, 10000, new float[3]))
                .hasMessage("RoPE frequency divisors: 3 values, expected 4 (one per rotated pair)");
    }

    @Test
    void embeddingDequantizesTheTokensRows() {
        TensorData table = CpuMatmulTest.randomTensor(GgmlType.Q4_0, 64, 10, 6);
        WeightMatrix w = backend.upload(table);
        DeviceBuffer out = backend.allocate(3 * 64);
        backend.embed(w, new int[] {7, 0, 7}, out);
        float[] got = new float[3 * 64];
        backend.read(out, got, 0);
        float[] all = table.toFloatArray();
        assertThat(Arrays.copyOfRange(got, 0, 64)).containsExactly(Arrays.copyOfRange(all, 7 * 64, 8 * 64));
        assertThat(Arrays.copyOfRange(got, 64, 128)).containsExactly(Arrays.copyOfRange(all, 0, 64));
        assertThat(Arrays.copyOfRange(got, 128, 192)).containsExactly(Arrays.copyOfRange(all, 7 * 64, 8 * 64));
        assertThatThrownBy(() -> backend.embed(w, new int[] {10}, out))
                .hasMessage("token id 10 at index 0 is outside the 10 rows of w");
    }

    /** (tokens, firstIndex, heads, kvHeads, headDim): decode and prefill paths, one and several key blocks. */
    @ParameterizedTest
    @CsvSource({
        "1, 0, 4, 2, 8", "1, 30, 4, 2, 8", "1, 130, 4, 1, 10", "5, 10, 4, 2, 8",
        "16, 0, 4, 2, 8", "20, 0, 6, 3, 10", "37, 50, 4, 2, 8", "100, 0, 4, 4, 6", "70, 61, 2, 1, 16"})
    void attentionEqualsNaiveSoftmaxAttention(int tokens, int firstIndex, int heads, int kvHeads, int dim) {
        AttentionShape shape = new AttentionShape(heads, kvHeads, dim, (float) (1 / Math.sqrt(dim)));
        int rows = firstIndex + tokens;
        float[] q = randomFloats(tokens * shape.queryDim(), 7);
        float[] k = scaled(randomFloats(rows * shape.kvDim(), 8), 3);
        float[] v = randomFloats(rows * shape.kvDim(), 9);
        float[] got = attention(q, k, v, tokens, firstIndex, shape);
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                double[] expected = naiveAttention(q, k, v, t, firstIndex, h, shape);
                for (int d = 0; d < dim; d++) {
                    assertThat((double) got[t * shape.queryDim() + h * dim + d])
                            .as("query %d head %d dim %d", t, h, d).isCloseTo(expected[d], offset(1e-5));
                }
            }
        }
    }

    @Test
    void queryHeadsReadTheirGroupsKvHead() {
        // Every value of kv head g is g + 1: each query head's output is its group's value.
        AttentionShape shape = new AttentionShape(6, 3, 4, 0.5f);
        for (int tokens : new int[] {2, 20}) {
            int rows = 5 + tokens;
            float[] v = new float[rows * shape.kvDim()];
            for (int r = 0; r < rows; r++) {
                for (int g = 0; g < 3; g++) {
                    Arrays.fill(v, r * 12 + g * 4, r * 12 + g * 4 + 4, g + 1);
                }
            }
            float[] got = attention(randomFloats(tokens * 24, 10), randomFloats(rows * 12, 11), v, tokens, 5, shape);
            for (int t = 0; t < tokens; t++) {
                for (int h = 0; h < 6; h++) {
                    for (int d = 0; d < 4; d++) {
                        assertThat((double) got[t * 24 + h * 4 + d]).isCloseTo(h / 2 + 1, offset(1e-6));
                    }
                }
            }
        }
    }

    @Test
    void aQueryNeverSeesLaterKeysAndBothPathsAgreeBitForBit() {
        AttentionShape shape = new AttentionShape(4, 2, 8, 0.35f);
        int tokens = 90;
        int first = 10;
        int rows = first + tokens;
        float[] q = randomFloats(tokens * 32, 12);
        float[] k = randomFloats(rows * 16, 13);
        float[] v = randomFloats(rows * 16, 14);
        float[] chunk = attention(q, k, v, tokens, first, shape);

        float[] k2 = k.clone();
        float[] v2 = v.clone();
        for (int i = (first + 50) * 16; i < k2.length; i++) {
            k2[i] += 5;
            v2[i] -= 3;
        }
        float[] changed = attention(q, k2, v2, tokens, first, shape);
        assertThat(Arrays.copyOf(changed, 50 * 32)).containsExactly(Arrays.copyOf(chunk, 50 * 32));
        assertThat(Arrays.copyOfRange(changed, 50 * 32, 51 * 32)).isNotEqualTo(Arrays.copyOfRange(chunk, 50 * 32, 51 * 32));

        for (int t : new int[] {0, 53, 54, 89}) {
            float[] single = attention(Arrays.copyOfRange(q, t * 32, (t + 1) * 32),
                    Arrays.copyOf(k, (first + t + 1) * 16), Arrays.copyOf(v, (first + t + 1) * 16), 1, first + t, shape);
            assertThat(single).as("query %d alone", t).containsExactly(Arrays.copyOfRange(chunk, t * 32, (t + 1) * 32));
        }
    }

    @Test
    void buffersOfAnotherBackendAreRejected() {
        DeviceBuffer foreign = new DeviceBuffer() {
            @Override
            public int size() {
                return 4;
            }

            @Override
            public dev.pflash.runtime.backend.ElementType type() {
                return dev.pflash.runtime.backend.ElementType.F32;
            }

            @Override
            public DeviceBuffer slice(int offset, int size) {
                return this;
            }

            @Override
            public void close() {
            }

            @Override
            public String toString() {
                return "foreign";
            }
        };
        assertThatThrownBy(() -> backend.add(foreign, backend.allocate(4), 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("buffer foreign does not belong to the CPU backend");
    }

    private static double[] naiveAttention(float[] q, float[] k, float[] v, int t, int first, int h, AttentionShape s) {
        int dim = s.headDim();
        int g = h / (s.heads() / s.kvHeads());
        int keys = first + t + 1;
        double[] scores = new double[keys];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < keys; j++) {
            double dot = 0;
            for (int d = 0; d < dim; d++) {
                dot += (double) q[t * s.queryDim() + h * dim + d] * k[j * s.kvDim() + g * dim + d];
            }
            scores[j] = dot * s.scale();
            max = Math.max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j < keys; j++) {
            scores[j] = Math.exp(scores[j] - max);
            sum += scores[j];
        }
        double[] out = new double[dim];
        for (int j = 0; j < keys; j++) {
            for (int d = 0; d < dim; d++) {
                out[d] += scores[j] / sum * v[j * s.kvDim() + g * dim + d];
            }
        }
        return out;
    }

    private static float[] attention(float[] q, float[] k, float[] v, int tokens, int first, AttentionShape shape) {
        DeviceBuffer out = backend.allocate(tokens * shape.queryDim());
        backend.attention(backend.upload(q), backend.upload(k), backend.upload(v), tokens, first, shape, out);
        float[] got = new float[out.size()];
        backend.read(out, got, 0);
        return got;
    }

    private static float[] scaled(float[] x, float factor) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= factor;
        }
        return x;
    }

    /** Uploads the arrays, runs the op on their buffers, and returns every buffer's contents afterwards. */
    private static float[][] run(Consumer<DeviceBuffer[]> op, float[]... arrays) {
        DeviceBuffer[] buffers = new DeviceBuffer[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            buffers[i] = backend.upload(arrays[i]);
        }
        op.accept(buffers);
        float[][] out = new float[arrays.length][];
        for (int i = 0; i < arrays.length; i++) {
            out[i] = new float[arrays[i].length];
            backend.read(buffers[i], out[i], 0);
        }
        return out;
    }
}
