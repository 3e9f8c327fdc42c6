package dev.pflash.runtime.pflash;

/**
 * An independent, deliberately plain reference of the drafter's tail scores in double precision:
 * the whole forward pass with dense causal attention, position by position, and at each layer the
 * softmax probabilities of the last {@code tail} tokens over their causal keys; the score of a
 * token is the mean over the tail of the maximum over layers and heads. Shares no code with the
 * runtime.
 */
final class NaiveTailScores {
    private final TinyDrafter m;

    NaiveTailScores(TinyDrafter model) {
        this.m = model;
    }

    double[] scores(int[] tokens, int tail, boolean beforeRope) {
        int n = tokens.length;
        int e = m.embedding;
        int d = m.headDim;
        int h = m.heads;
        int kvh = m.kvHeads;
        double[][] x = new double[n][e];
        float[] embd = m.w("token_embd.weight");
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < e; i++) {
                x[t][i] = embd[tokens[t] * e + i];
            }
        }
        double[][] best = new double[tail][n];
        for (int l = 0; l < m.layers; l++) {
            String b = "blk." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] v = new double[n][];
            double[][] qScore = new double[n][];
            double[][] kScore = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] hn = rmsNorm(x[t], m.w(b + "attn_norm.weight"));
                q[t] = matVec(m.w(b + "attn_q.weight"), hn, h * d);
                k[t] = matVec(m.w(b + "attn_k.weight"), hn, kvh * d);
                v[t] = matVec(m.w(b + "attn_v.weight"), hn, kvh * d);
                normHeads(q[t], h, d, m.w(b + "attn_q_norm.weight"));
                normHeads(k[t], kvh, d, m.w(b + "attn_k_norm.weight"));
                if (beforeRope) {
                    qScore[t] = q[t].clone();
                    kScore[t] = k[t].clone();
                }
                rotate(q[t], h, d, t);
                rotate(k[t], kvh, d, t);
                if (!beforeRope) {
                    qScore[t] = q[t];
                    kScore[t] = k[t];
                }
            }
            for (int t = 0; t < tail; t++) {
                int row = n - tail + t;
                for (int head = 0; head < h; head++) {
                    double[] p = softmax(qScore, kScore, row, head, head / (h / kvh), d);
                    for (int j = 0; j <= row; j++) {
                        best[t][j] = Math.max(best[t][j], p[j]);
                    }
                }
            }
            double[][] next = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] att = new double[h * d];
                for (int head = 0; head < h; head++) {
                    int g = head / (h / kvh);
                    double[] p = softmax(q, k, t, head, g, d);
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < d; i++) {
                            att[head * d + i] += p[j] * v[j][g * d + i];
                        }
                    }
                }
                next[t] = x[t].clone();
                add(next[t], matVec(m.w(b + "attn_output.weight"), att, e));
                double[] hn = rmsNorm(next[t], m.w(b + "ffn_norm.weight"));
                double[] gate = matVec(m.w(b + "ffn_gate.weight"), hn, m.ffn);
                double[] up = matVec(m.w(b + "ffn_up.weight"), hn, m.ffn);
                for (int i = 0; i < gate.length; i++) {
                    gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                }
                add(next[t], matVec(m.w(b + "ffn_down.weight"), gate, e));
            }
            x = next;
        }
        double[] scores = new double[n];
        for (int j = 0; j < n; j++) {
            for (int t = 0; t < tail; t++) {
                scores[j] += best[t][j] / tail;
            }
        }
        return scores;
    }

    private static double[] softmax(double[][] q, double[][] k, int row, int head, int kvHead, int d) {
        double[] p = new double[row + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= row; j++) {
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += q[row][head * d + i] * k[j][kvHead * d + i];
            }
            p[j] = dot / Math.sqrt(d);
            max = Math.max(max, p[j]);
        }
        double sum = 0;
        for (int j = 0; j <= row; j++) {
            p[j] = Math.exp(p[j] - max);
            sum += p[j];
        }
        for (int j = 0; j <= row; j++) {
            p[j] /= sum;
        }
        return p;
    }

    private static double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + 1e-6);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * x[i] * r;
        }
        return out;
    }

    private static void normHeads(double[] x, int heads, int d, float[] weight) {
        for (int head = 0; head < heads; head++) {
            double[] one = new double[d];
            System.arraycopy(x, head * d, one, 0, d);
            System.arraycopy(rmsNorm(one, weight), 0, x, head * d, d);
        }
    }

    /** NEOX RoPE, base 10000, pairs (i, i + D/2). */
    private static void rotate(double[] x, int heads, int d, int p) {
        for (int head = 0; head < heads; head++) {
            for (int i = 0; i < d / 2; i++) {
                double theta = p * Math.pow(10_000, -2.0 * i / d);
                int a = head * d + i;
                int b = a + d / 2;
                double va = x[a];
                double vb = x[b];
                x[a] = va * Math.cos(theta) - vb * Math.sin(theta);
                x[b] = va * Math.sin(theta) + vb * Math.cos(theta);
            }
        }
    }

    private static double[] matVec(float[] w, double[] x, int rows) {
        double[] y = new double[rows];
        for (int o = 0; o < rows; o++) {
            double acc = 0;
            for (int i = 0; i < x.length; i++) {
                acc += w[o * x.length + i] * x[i];
            }
            y[o] = acc;
        }
        return y;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
