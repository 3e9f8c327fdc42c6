package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.DeltaNetShape;
import java.util.Arrays;

/**
 * The gated delta rule of a DeltaNet layer on the CPU, per value head, in two forms that agree
 * within float rounding: the token-by-token recurrence (decode) and the chunked WY form (prefill),
 * which turns a chunk of C tokens into C x C and C x d products instead of C serial state updates
 * (QWEN35-HYBRID.md, "Prefill in chunks"). State {@code S} of head {@code h} is
 * {@code keyDim x valueDim} floats, row-major, at {@code h * keyDim * valueDim}.
 */
final class CpuDeltaNet {
    /** Tokens per chunk of the WY form: its triangular solves cost C^2 per token, its state update d^2 per chunk. */
    static final int CHUNK = DeltaNetShape.CHUNK;

    private CpuDeltaNet() {
    }

    /**
     * Runs {@code tokens} tokens through every value head: by recurrence when {@code chunk == 1},
     * else in chunks of {@code chunk} tokens (the last one partial).
     */
    static void run(CpuThreadPool pool, DeltaRuleKernel kernel, float[] qkv, int qkvOffset, float[] g, int gOffset,
            float[] beta, int betaOffset, int tokens, DeltaNetShape shape, float[] state, int stateOffset, float[] out,
            int outOffset, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("DeltaNet chunk size must be >= 1, got " + chunk);
        }
        Input in = new Input(qkv, qkvOffset, g, gOffset, beta, betaOffset, shape);
        pool.forRange(shape.valueHeads(), 1, (from, to) -> {
            for (int h = from; h < to; h++) {
                int s = stateOffset + h * shape.keyDim() * shape.valueDim();
                if (chunk == 1) {
                    recurrence(kernel, in, h, tokens, state, s, out, outOffset);
                } else {
                    for (int t0 = 0; t0 < tokens; t0 += chunk) {
                        chunked(kernel, in, h, t0, Math.min(chunk, tokens - t0), state, s, out, outOffset);
                    }
                }
            }
        });
    }

    /** Where the per-token inputs of one call are. */
    private record Input(float[] qkv, int qkvOffset, float[] g, int gOffset, float[] beta, int betaOffset,
            DeltaNetShape shape) {
        /** Token t's key of value head h, L2-normalized, into dst. */
        void key(int t, int h, float[] dst, int dstOffset) {
            normalized(t, shape.keyWidth() + keyHead(h) * shape.keyDim(), 1f, dst, dstOffset);
        }

        /** Token t's query of value head h, L2-normalized and scaled by 1/sqrt(dk), into dst. */
        void query(int t, int h, float[] dst, int dstOffset) {
            normalized(t, keyHead(h) * shape.keyDim(), (float) (1 / Math.sqrt(shape.keyDim())), dst, dstOffset);
        }

        /** Index in qkv of token t's value of head h. */
        int value(int t, int h) {
            return qkvOffset + t * shape.channels() + 2 * shape.keyWidth() + h * shape.valueDim();
        }

        float logDecay(int t, int h) {
            return g[gOffset + t * shape.valueHeads() + h];
        }

        float beta(int t, int h) {
            return beta[betaOffset + t * shape.valueHeads() + h];
        }

        /** The converter tiles value heads over key heads: value head h reads key head h mod Hk. */
        private int keyHead(int h) {
            return h % shape.keyHeads();
        }

        private void normalized(int t, int column, float scale, float[] dst, int dstOffset) {
            int src = qkvOffset + t * shape.channels() + column;
            int dk = shape.keyDim();
            double ss = 0;
            for (int a = 0; a < dk; a++) {
                ss += qkv[src + a] * qkv[src + a];
            }
            float r = scale / (float) Math.max(Math.sqrt(ss), shape.eps());
            for (int a = 0; a < dk; a++) {
                dst[dstOffset + a] = qkv[src + a] * r;
            }
        }
    }

    /** Token by token: decay S, correct it towards v along k, read it with q. */
    private static void recurrence(DeltaRuleKernel kernel, Input in, int h, int tokens, float[] state, int s,
            float[] out, int outOffset) {
        DeltaNetShape shape = in.shape();
        int dk = shape.keyDim();
        int dv = shape.valueDim();
        float[] k = new float[dk];
        float[] q = new float[dk];
        float[] delta = new float[dv];
        for (int t = 0; t < tokens; t++) {
            in.key(t, h, k, 0);
            in.query(t, h, q, 0);
            float alpha = (float) Math.exp(in.logDecay(t, h));
            float beta = in.beta(t, h);
            int v = in.value(t, h);
            // delta = beta (v - (alpha S)^T k), decaying S on the way.
            Arrays.fill(delta, 0f);
            for (int a = 0; a < dk; a++) {
                kernel.decayAndProject(state, s + a * dv, alpha, k[a], delta, dv);
            }
            for (int b = 0; b < dv; b++) {
                delta[b] = beta * (in.qkv()[v + b] - delta[b]);
            }
            // S += k delta^T; o = S^T q.
            int o = outOffset + t * shape.valueWidth() + h * dv;
            Arrays.fill(out, o, o + dv, 0f);
            for (int a = 0; a < dk; a++) {
                kernel.updateAndRead(state, s + a * dv, k[a], delta, q[a], out, o, dv);
            }
        }
    }

    /**
     * Tokens {@code t0 .. t0 + c} of head {@code h} at once. With gamma the running sum of the
     * log-decays in the chunk and A[i][j] = beta_i e^(gamma_i - gamma_j) k_i.k_j (j < i):
     * (I + A) U = beta V and (I + A) W = beta e^gamma K by forward substitution; the chunk's
     * corrections are Delta = U - W S0; outputs O = e^gamma Q S0 + causal(e^(gamma_i - gamma_j) q_i.k_j) Delta;
     * and S = e^gamma_C S0 + sum_t e^(gamma_C - gamma_t) k_t Delta_t^T.
     */
    private static void chunked(DeltaRuleKernel kernel, Input in, int h, int t0, int c, float[] state, int s,
            float[] out, int outOffset) {
        DeltaNetShape shape = in.shape();
        int dk = shape.keyDim();
        int dv = shape.valueDim();
        float[] keys = new float[c * dk];
        float[] queries = new float[c * dk];
        float[] gamma = new float[c];
        float[] betas = new float[c];
        float sum = 0;
        for (int i = 0; i < c; i++) {
            in.key(t0 + i, h, keys, i * dk);
            in.query(t0 + i, h, queries, i * dk);
            sum += in.logDecay(t0 + i, h);
            gamma[i] = sum;
            betas[i] = in.beta(t0 + i, h);
        }
        float[] a = new float[c * c];
        for (int i = 1; i < c; i++) {
            for (int j = 0; j < i; j++) {
                a[i * c + j] = betas[i] * (float) Math.exp(gamma[i] - gamma[j]) * dot(keys, i * dk, keys, j * dk, dk);
            }
        }
        // U (c x dv) becomes Delta in place; W (c x dk).
        float[] u = new float[c * dv];
        float[] w = new float[c * dk];
        for (int i = 0; i < c; i++) {
            int v = in.value(t0 + i, h);
            for (int b = 0; b < dv; b++) {
                u[i * dv + b] = betas[i] * in.qkv()[v + b];
            }
            float scale = betas[i] * (float) Math.exp(gamma[i]);
            for (int x = 0; x < dk; x++) {
                w[i * dk + x] = scale * keys[i * dk + x];
            }
            for (int j = 0; j < i; j++) {
                float aij = a[i * c + j];
                kernel.axpy(-aij, u, j * dv, u, i * dv, dv);
                kernel.axpy(-aij, w, j * dk, w, i * dk, dk);
            }
        }
        for (int i = 0; i < c; i++) {
            for (int x = 0; x < dk; x++) {
                kernel.axpy(-w[i * dk + x], state, s + x * dv, u, i * dv, dv);
            }
        }
        for (int i = 0; i < c; i++) {
            int o = outOffset + (t0 + i) * shape.valueWidth() + h * dv;
            Arrays.fill(out, o, o + dv, 0f);
            float decay = (float) Math.exp(gamma[i]);
            for (int x = 0; x < dk; x++) {
                kernel.axpy(decay * queries[i * dk + x], state, s + x * dv, out, o, dv);
            }
            for (int j = 0; j <= i; j++) {
                float weight = (float) Math.exp(gamma[i] - gamma[j]) * dot(queries, i * dk, keys, j * dk, dk);
                kernel.axpy(weight, u, j * dv, out, o, dv);
            }
        }
        float last = gamma[c - 1];
        float total = (float) Math.exp(last);
        for (int x = 0; x < dk; x++) {
            int row = s + x * dv;
            for (int b = 0; b < dv; b++) {
                state[row + b] *= total;
            }
            for (int t = 0; t < c; t++) {
                kernel.axpy((float) Math.exp(last - gamma[t]) * keys[t * dk + x], u, t * dv, state, row, dv);
            }
        }
    }

    private static float dot(float[] x, int xo, float[] y, int yo, int n) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[xo + i] * y[yo + i];
        }
        return sum;
    }
}
