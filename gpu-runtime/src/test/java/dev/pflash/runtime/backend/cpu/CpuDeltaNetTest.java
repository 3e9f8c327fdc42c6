package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.backend.DeltaNetShape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The delta rule of {@link CpuDeltaNet}: the recurrence against a double-precision rendering of
 * QWEN35-HYBRID.md's formulas, and the chunked WY form against the recurrence for every chunk
 * size 1..64 (most leaving a partial last chunk), in one call and in several; and the Vector API
 * kernel against the scalar one, bit for bit.
 */
class CpuDeltaNetTest {
    /** 2 key heads, 6 value heads (value head h reads key head h mod 2), unequal key and value dims. */
    private static final DeltaNetShape SHAPE = new DeltaNetShape(2, 6, 16, 12, 1e-6f);
    private static final int TOKENS = 100;

    private static CpuThreadPool pool;

    @BeforeAll
    static void start() {
        pool = new CpuThreadPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Random inputs of {@code tokens} tokens and a random starting state. */
    private record Inputs(float[] qkv, float[] g, float[] beta, float[] state) {
        static Inputs random(int tokens, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            float[] qkv = new float[tokens * SHAPE.channels()];
            for (int i = 0; i < qkv.length; i++) {
                qkv[i] = (float) rnd.nextDouble(-1, 1);
            }
            float[] g = new float[tokens * SHAPE.valueHeads()];
            float[] beta = new float[g.length];
            for (int i = 0; i < g.length; i++) {
                // Decays from strong (e^-3) to almost none, as softplus(.) * -exp(A_log) gives.
                g[i] = (float) -rnd.nextDouble(0.001, 3);
                beta[i] = (float) rnd.nextDouble(0, 1);
            }
            float[] state = new float[SHAPE.stateSize()];
            for (int i = 0; i < state.length; i++) {
                state[i] = (float) rnd.nextDouble(-0.5, 0.5);
            }
            return new Inputs(qkv, g, beta, state);
        }
    }

    /** Output and final state of running {@code in} in calls of the given token counts, with chunk size {@code chunk}. */
    private static float[][] run(Inputs in, int chunk, int... calls) {
        return run(DeltaRuleKernel.forThisJvm(), in, chunk, calls);
    }

    private static float[][] run(DeltaRuleKernel kernel, Inputs in, int chunk, int... calls) {
        float[] state = in.state().clone();
        float[] out = new float[TOKENS * SHAPE.valueWidth()];
        int t = 0;
        for (int n : calls) {
            CpuDeltaNet.run(pool, kernel, in.qkv(), t * SHAPE.channels(), in.g(), t * SHAPE.valueHeads(), in.beta(),
                    t * SHAPE.valueHeads(), n, SHAPE, state, 0, out, t * SHAPE.valueWidth(), chunk);
            t += n;
        }
        return new float[][] {out, state};
    }

    @Test
    void recurrenceFollowsTheDeltaRule() {
        Inputs in = Inputs.random(TOKENS, 1);
        float[][] actual = run(in, 1, TOKENS);
        double[][] expected = reference(in);
        for (int i = 0; i < expected[0].length; i++) {
            assertThat((double) actual[0][i]).as("output %d", i).isCloseTo(expected[0][i], within(1e-4));
        }
        for (int i = 0; i < expected[1].length; i++) {
            assertThat((double) actual[1][i]).as("state %d", i).isCloseTo(expected[1][i], within(1e-4));
        }
    }

    @Test
    void chunkedFormEqualsTheRecurrenceForEveryChunkSize() {
        Inputs in = Inputs.random(TOKENS, 2);
        float[][] recurrence = run(in, 1, TOKENS);
        for (int chunk = 1; chunk <= 64; chunk++) {
            float[][] chunked = run(in, chunk, TOKENS);
            assertClose(chunked, recurrence, "chunk " + chunk);
        }
    }

    @Test
    void chunkedFormInOneCallEqualsItInSteps() {
        Inputs in = Inputs.random(TOKENS, 3);
        float[][] once = run(in, 64, TOKENS);
        assertClose(run(in, 64, 37, 1, 40, 22), once, "calls of 37, 1, 40 and 22 tokens");
        assertClose(run(in, 16, 64, 36), once, "chunks of 16 in calls of 64 and 36");
    }

    @Test
    void vectorKernelGivesTheScalarKernelsBits() {
        // Value rows of 12 floats: one whole vector of 8 lanes (or none of 16) and a scalar tail.
        Inputs in = Inputs.random(TOKENS, 4);
        for (int chunk : new int[] {1, 7, 64}) {
            float[][] scalar = run(new ScalarDeltaRuleKernel(), in, chunk, 37, 1, 62);
            float[][] vector = run(new VectorDeltaRuleKernel(), in, chunk, 37, 1, 62);
            assertThat(vector[0]).as("output, chunk %d", chunk).isEqualTo(scalar[0]);
            assertThat(vector[1]).as("state, chunk %d", chunk).isEqualTo(scalar[1]);
        }
    }

    private static void assertClose(float[][] actual, float[][] expected, String what) {
        for (int part = 0; part < 2; part++) {
            for (int i = 0; i < expected[part].length; i++) {
                assertThat(actual[part][i]).as("%s: %s %d", what, part == 0 ? "output" : "state", i)
                        .isCloseTo(expected[part][i], within(1e-5f));
            }
        }
    }

    /**
     * QWEN35-HYBRID.md step by step in doubles: normalize q and k, scale q by 1/sqrt(dk), then per
     * value head S = e^g S; delta = beta (v - S^T k); S += k delta^T; o = S^T q.
     */
    private static double[][] reference(Inputs in) {
        int dk = SHAPE.keyDim();
        int dv = SHAPE.valueDim();
        int hv = SHAPE.valueHeads();
        double[] state = new double[SHAPE.stateSize()];
        for (int i = 0; i < state.length; i++) {
            state[i] = in.state()[i];
        }
        double[] out = new double[TOKENS * SHAPE.valueWidth()];
        for (int t = 0; t < TOKENS; t++) {
            int row = t * SHAPE.channels();
            for (int h = 0; h < hv; h++) {
                int kh = h % SHAPE.keyHeads();
                double[] q = normalized(in.qkv(), row + kh * dk, dk);
                double[] k = normalized(in.qkv(), row + SHAPE.keyWidth() + kh * dk, dk);
                int v = row + 2 * SHAPE.keyWidth() + h * dv;
                double decay = Math.exp(in.g()[t * hv + h]);
                double beta = in.beta()[t * hv + h];
                int s = h * dk * dv;
                for (int i = 0; i < dk * dv; i++) {
                    state[s + i] *= decay;
                }
                for (int b = 0; b < dv; b++) {
                    double read = 0;
                    for (int a = 0; a < dk; a++) {
                        read += state[s + a * dv + b] * k[a];
                    }
                    double delta = beta * (in.qkv()[v + b] - read);
                    double o = 0;
                    for (int a = 0; a < dk; a++) {
                        state[s + a * dv + b] += k[a] * delta;
                        o += state[s + a * dv + b] * q[a] / Math.sqrt(dk);
                    }
                    out[t * SHAPE.valueWidth() + h * dv + b] = o;
                }
            }
        }
        return new double[][] {out, state};
    }

    private static double[] normalized(float[] x, int from, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[from + i] * x[from + i];
        }
        double norm = Math.max(Math.sqrt(ss), 1e-6);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = x[from + i] / norm;
        }
        return out;
    }
}
