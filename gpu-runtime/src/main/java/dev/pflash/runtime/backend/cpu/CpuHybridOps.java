package dev.pflash.runtime.backend.cpu;

/**
 * The elementwise and per-row ops of the qwen35 hybrid layers on the CPU (everything but the delta
 * rule itself, which is {@link CpuDeltaNet}): plain loops over float arrays, one row or one token
 * at a time, so a row's result does not depend on the chunk around it.
 */
final class CpuHybridOps {
    private CpuHybridOps() {
    }

    static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    static float softplus(float x) {
        // log(1 + e^x) overflows in e^x long before the result differs from x.
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    static void split(CpuBuffer packed, int rows, int first, int second, CpuBuffer a, CpuBuffer b) {
        int width = first + second;
        for (int r = 0; r < rows; r++) {
            System.arraycopy(packed.data, packed.offset + r * width, a.data, a.offset + r * first, first);
            System.arraycopy(packed.data, packed.offset + r * width + first, b.data, b.offset + r * second, second);
        }
    }

    static void sigmoidMul(CpuBuffer x, CpuBuffer gate, int n) {
        for (int i = 0; i < n; i++) {
            x.data[x.offset + i] *= sigmoid(gate.data[gate.offset + i]);
        }
    }

    static void causalConvSilu(CpuBuffer x, int tokens, int channels, CpuBuffer weight, int kernel, CpuBuffer state,
            CpuBuffer out) {
        int history = kernel - 1;
        for (int t = 0; t < tokens; t++) {
            int o = out.offset + t * channels;
            for (int c = 0; c < channels; c++) {
                float sum = 0;
                for (int j = 0; j < kernel; j++) {
                    // Input row t - history + j: from the state before the chunk, else from x.
                    int row = t - history + j;
                    float u = row < 0
                            ? state.data[state.offset + (history + row) * channels + c]
                            : x.data[x.offset + row * channels + c];
                    sum += weight.data[weight.offset + c * kernel + j] * u;
                }
                out.data[o + c] = silu(sum);
            }
        }
        // The new state: the last `history` raw inputs of state and x together, oldest first.
        float[] next = new float[history * channels];
        for (int r = 0; r < history; r++) {
            int row = tokens - history + r;
            if (row < 0) {
                System.arraycopy(state.data, state.offset + (history + row) * channels, next, r * channels, channels);
            } else {
                System.arraycopy(x.data, x.offset + row * channels, next, r * channels, channels);
            }
        }
        System.arraycopy(next, 0, state.data, state.offset, next.length);
    }

    static void deltaNetGates(CpuBuffer alpha, CpuBuffer beta, CpuBuffer dtBias, CpuBuffer a, int tokens, int heads) {
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int i = t * heads + h;
                float decayRate = softplus(alpha.data[alpha.offset + i] + dtBias.data[dtBias.offset + h]);
                alpha.data[alpha.offset + i] = decayRate * a.data[a.offset + h];
                beta.data[beta.offset + i] = sigmoid(beta.data[beta.offset + i]);
            }
        }
    }

    static void rmsNormGated(CpuBuffer x, CpuBuffer weight, CpuBuffer z, int rows, int dim, float eps, CpuBuffer out) {
        for (int r = 0; r < rows; r++) {
            int xi = x.offset + r * dim;
            int zi = z.offset + r * dim;
            int oi = out.offset + r * dim;
            float scale = CpuBackend.rmsScale(x.data, xi, dim, eps);
            for (int i = 0; i < dim; i++) {
                out.data[oi + i] = weight.data[weight.offset + i] * (x.data[xi + i] * scale) * silu(z.data[zi + i]);
            }
        }
    }
}
