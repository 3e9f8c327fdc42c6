package dev.pflash.runtime.model;

/**
 * An independent, deliberately plain reference of the forward pass (GGUF-QWEN3.md section 4) in
 * double precision: no cache, no chunks, no backend; it recomputes every position from the
 * token ids and the float weights of a {@link TinyModel}. Shares no math with the production code.
 */
final class NaiveTransformer {
    private final TinyModel model;
    private final TinyModel.Spec s;

    NaiveTransformer(TinyModel model) {
        this.model = model;
        this.s = model.spec;
    }

    /** Logits of every position: [n][vocab]. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        int e = s.embedding();
        int d = s.headDim();
        int h = s.heads();
        int kvh = s.kvHeads();
        double[][] x = new double[n][];
        float[] embd = w("token_embd.weight");
        for (int t = 0; t < n; t++) {
            x[t] = new double[e];
            for (int i = 0; i < e; i++) {
                x[t][i] = embd[tokens[t] * e + i];
            }
        }
        for (int l = 0; l < s.layers(); l++) {
            String b = "blk." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] hn = rmsNorm(x[t], w(b + "attn_norm.weight"));
                q[t] = matVec(w(b + "attn_q.weight"), hn, h * d);
                k[t] = matVec(w(b + "attn_k.weight"), hn, kvh * d);
                v[t] = matVec(w(b + "attn_v.weight"), hn, kvh * d);
                if (s.biases()) {
                    addInPlace(q[t], w(b + "attn_q.bias"));
                    addInPlace(k[t], w(b + "attn_k.bias"));
                    addInPlace(v[t], w(b + "attn_v.bias"));
                }
                if (s.architecture().equals("qwen3")) {
                    normHeads(q[t], h, d, w(b + "attn_q_norm.weight"));
                    normHeads(k[t], kvh, d, w(b + "attn_k_norm.weight"));
                }
                rotate(q[t], h, d, t);
                rotate(k[t], kvh, d, t);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[h * d];
                for (int head = 0; head < h; head++) {
                    int g = head / (h / kvh);
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        double dot = 0;
                        for (int i = 0; i < d; i++) {
                            dot += q[t][head * d + i] * k[j][g * d + i];
                        }
                        scores[j] = dot / Math.sqrt(d);
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < d; i++) {
                            att[head * d + i] += scores[j] / sum * v[j][g * d + i];
                        }
                    }
                }
                addInPlace(x[t], matVec(w(b + "attn_output.weight"), att, e));
                double[] hn = rmsNorm(x[t], w(b + "ffn_norm.weight"));
                double[] gate = matVec(w(b + "ffn_gate.weight"), hn, s.ffn());
                double[] up = matVec(w(b + "ffn_up.weight"), hn, s.ffn());
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                addInPlace(x[t], matVec(w(b + "ffn_down.weight"), gate, e));
            }
        }
        float[] head = w(s.tied() ? "token_embd.weight" : "output.weight");
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            out[t] = matVec(head, rmsNorm(x[t], w("output_norm.weight")), s.vocab());
        }
        return out;
    }

    private float[] w(String name) {
        float[] v = model.weights.get(name);
        if (v == null) {
            throw new IllegalStateException("tiny model has no " + name);
        }
        return v;
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + s.eps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * x[i] * r;
        }
        return out;
    }

    private void normHeads(double[] x, int heads, int d, float[] weight) {
        for (int head = 0; head < heads; head++) {
            double[] one = new double[d];
            System.arraycopy(x, head * d, one, 0, d);
            System.arraycopy(rmsNorm(one, weight), 0, x, head * d, d);
        }
    }

    /** RoPE at position p: NEOX pairs (i, i + D/2) for qwen, adjacent pairs (2i, 2i+1) for llama. */
    private void rotate(double[] x, int heads, int d, int p) {
        boolean neox = !s.architecture().equals("llama");
        for (int head = 0; head < heads; head++) {
            for (int i = 0; i < d / 2; i++) {
                double freq = Math.pow(s.ropeBase(), -2.0 * i / d);
                if (s.ropeFreqs()) {
                    freq /= w("rope_freqs.weight")[i];
                }
                double theta = p * freq;
                int a = head * d + (neox ? i : 2 * i);
                int b = neox ? a + d / 2 : a + 1;
                double va = x[a];
                double vb = x[b];
                x[a] = va * Math.cos(theta) - vb * Math.sin(theta);
                x[b] = va * Math.sin(theta) + vb * Math.cos(theta);
            }
        }
    }

    /** y[o] = sum_i m[o * in + i] * x[i], m holding {@code rows} rows of x.length floats. */
    private static double[] matVec(float[] m, double[] x, int rows) {
        double[] y = new double[rows];
        for (int o = 0; o < rows; o++) {
            double acc = 0;
            for (int i = 0; i < x.length; i++) {
                acc += m[o * x.length + i] * x[i];
            }
            y[o] = acc;
        }
        return y;
    }

    private static void addInPlace(double[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }

    private static void addInPlace(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
