package dev.pflash.runtime.model;

import static dev.pflash.runtime.model.TinyHybridModel.*;

import java.util.ArrayList;
import java.util.List;

/**
 * The qwen35 forward of QWEN35-HYBRID.md written out token by token in doubles, straight from
 * {@link TinyHybridModel}'s float weights: the reference the backend ops are checked against.
 */
final class NaiveHybrid {
    private final TinyHybridModel m;

    NaiveHybrid(TinyHybridModel m) {
        this.m = m;
    }

    /** Logits of every token of {@code tokens}, run from position 0. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        List<List<double[]>> keys = new ArrayList<>();
        List<List<double[]>> values = new ArrayList<>();
        double[][] ssm = new double[LAYERS][VALUE_HEADS * KEY_DIM * VALUE_DIM];
        double[][][] conv = new double[LAYERS][KERNEL - 1][CHANNELS];
        for (int l = 0; l < LAYERS; l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] x = row(m.weight("token_embd.weight"), tokens[t], E);
            for (int l = 0; l < LAYERS; l++) {
                String b = "blk." + l + ".";
                double[] h = rmsNorm(x, m.weight(b + "attn_norm.weight"));
                double[] mixed = (l + 1) % INTERVAL == 0
                        ? attention(b, h, t, keys.get(l), values.get(l))
                        : deltaNet(b, h, ssm[l], conv[l]);
                add(x, mixed);
                double[] u = rmsNorm(x, m.weight(b + "post_attention_norm.weight"));
                double[] gate = matmul(m.weight(b + "ffn_gate.weight"), u, FFN);
                double[] up = matmul(m.weight(b + "ffn_up.weight"), u, FFN);
                for (int i = 0; i < FFN; i++) {
                    gate[i] = silu(gate[i]) * up[i];
                }
                add(x, matmul(m.weight(b + "ffn_down.weight"), gate, E));
            }
            out[t] = matmul(m.weight("token_embd.weight"), rmsNorm(x, m.weight("output_norm.weight")), m.vocab);
        }
        return out;
    }

    private double[] attention(String b, double[] h, int pos, List<double[]> keys, List<double[]> values) {
        int d = HEAD_DIM;
        double[] qg = matmul(m.weight(b + "attn_q.weight"), h, 2 * HEADS * d);
        double[] k = matmul(m.weight(b + "attn_k.weight"), h, KV_HEADS * d);
        double[] v = matmul(m.weight(b + "attn_v.weight"), h, KV_HEADS * d);
        for (int j = 0; j < KV_HEADS; j++) {
            double[] head = rmsNorm(slice(k, j * d, d), m.weight(b + "attn_k_norm.weight"));
            rope(head, pos);
            System.arraycopy(head, 0, k, j * d, d);
        }
        keys.add(k);
        values.add(v);
        double[] o = new double[HEADS * d];
        for (int j = 0; j < HEADS; j++) {
            // Head j's queries then its gate: [q_j | gate_j].
            double[] q = rmsNorm(slice(qg, j * 2 * d, d), m.weight(b + "attn_q_norm.weight"));
            rope(q, pos);
            int g = j / (HEADS / KV_HEADS);
            double[] scores = new double[keys.size()];
            double max = Double.NEGATIVE_INFINITY;
            for (int s = 0; s < scores.length; s++) {
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += q[i] * keys.get(s)[g * d + i];
                }
                scores[s] = dot / Math.sqrt(d);
                max = Math.max(max, scores[s]);
            }
            double sum = 0;
            for (int s = 0; s < scores.length; s++) {
                scores[s] = Math.exp(scores[s] - max);
                sum += scores[s];
            }
            for (int i = 0; i < d; i++) {
                double acc = 0;
                for (int s = 0; s < scores.length; s++) {
                    acc += scores[s] / sum * values.get(s)[g * d + i];
                }
                o[j * d + i] = acc * sigmoid(qg[j * 2 * d + d + i]);
            }
        }
        return matmul(m.weight(b + "attn_output.weight"), o, E);
    }

    private double[] deltaNet(String b, double[] h, double[] state, double[][] history) {
        double[] mixed = matmul(m.weight(b + "attn_qkv.weight"), h, CHANNELS);
        double[] z = matmul(m.weight(b + "attn_gate.weight"), h, VALUE_HEADS * VALUE_DIM);
        double[] beta = matmul(m.weight(b + "ssm_beta.weight"), h, VALUE_HEADS);
        double[] alpha = matmul(m.weight(b + "ssm_alpha.weight"), h, VALUE_HEADS);
        float[] w = m.weight(b + "ssm_conv1d.weight");
        double[] y = new double[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            double acc = w[c * KERNEL + KERNEL - 1] * mixed[c];
            for (int j = 0; j < KERNEL - 1; j++) {
                acc += w[c * KERNEL + j] * history[j][c];
            }
            y[c] = silu(acc);
        }
        for (int j = 0; j < KERNEL - 2; j++) {
            history[j] = history[j + 1];
        }
        history[KERNEL - 2] = mixed;
        double[] o = new double[VALUE_HEADS * VALUE_DIM];
        for (int hv = 0; hv < VALUE_HEADS; hv++) {
            int kh = hv % KEY_HEADS;
            double[] q = l2(slice(y, kh * KEY_DIM, KEY_DIM));
            double[] k = l2(slice(y, KEY_HEADS * KEY_DIM + kh * KEY_DIM, KEY_DIM));
            double[] v = slice(y, 2 * KEY_HEADS * KEY_DIM + hv * VALUE_DIM, VALUE_DIM);
            double g = softplus(alpha[hv] + m.weight(b + "ssm_dt.bias")[hv]) * m.weight(b + "ssm_a")[hv];
            double bt = sigmoid(beta[hv]);
            int s = hv * KEY_DIM * VALUE_DIM;
            for (int i = 0; i < KEY_DIM * VALUE_DIM; i++) {
                state[s + i] *= Math.exp(g);
            }
            double[] head = new double[VALUE_DIM];
            for (int c = 0; c < VALUE_DIM; c++) {
                double read = 0;
                for (int a = 0; a < KEY_DIM; a++) {
                    read += state[s + a * VALUE_DIM + c] * k[a];
                }
                double delta = bt * (v[c] - read);
                for (int a = 0; a < KEY_DIM; a++) {
                    state[s + a * VALUE_DIM + c] += k[a] * delta;
                    head[c] += state[s + a * VALUE_DIM + c] * q[a] / Math.sqrt(KEY_DIM);
                }
            }
            double[] normed = rmsNorm(head, m.weight(b + "ssm_norm.weight"));
            for (int c = 0; c < VALUE_DIM; c++) {
                o[hv * VALUE_DIM + c] = normed[c] * silu(z[hv * VALUE_DIM + c]);
            }
        }
        return matmul(m.weight(b + "ssm_out.weight"), o, E);
    }

    /** NEOX rotation of the first ROPE_DIMS dims: pairs (i, i + ROPE_DIMS/2); the rest pass through. */
    private static void rope(double[] head, int pos) {
        int half = ROPE_DIMS / 2;
        for (int i = 0; i < half; i++) {
            double theta = pos * Math.pow(ROPE_BASE, -2.0 * i / ROPE_DIMS);
            double a = head[i];
            double c = head[i + half];
            head[i] = a * Math.cos(theta) - c * Math.sin(theta);
            head[i + half] = a * Math.sin(theta) + c * Math.cos(theta);
        }
    }

    private static double[] rmsNorm(double[] x, float[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + EPS);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * r * w[i];
        }
        return out;
    }

    private static double[] l2(double[] x) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double norm = Math.max(Math.sqrt(ss), EPS);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] / norm;
        }
        return out;
    }

    /** y = W x with W stored as rows of x.length floats. */
    private static double[] matmul(float[] w, double[] x, int rows) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double acc = 0;
            for (int i = 0; i < x.length; i++) {
                acc += w[r * x.length + i] * x[i];
            }
            y[r] = acc;
        }
        return y;
    }

    private static double[] row(float[] table, int r, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = table[r * width + i];
        }
        return out;
    }

    private static double[] slice(double[] x, int from, int n) {
        double[] out = new double[n];
        System.arraycopy(x, from, out, 0, n);
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    private static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }
}
