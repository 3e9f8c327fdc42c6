package dev.pflash.runtime.model;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.InMemoryModelFile;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.gguf.TensorData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A small random model built in memory: its hyperparameters, its float weights (kept here so the
 * naive reference reads exactly what the model file holds), and the file. Matrices are stored
 * row-major as GGUF has them: tensor dims [in, out] = out rows of in floats.
 */
final class TinyModel {
    /** Hyperparameters of a tiny model; {@code keyLength} 0 means "not in the metadata" (head dim E/H). */
    record Spec(String name, String architecture, int layers, int embedding, int ffn, int heads, int kvHeads,
            int keyLength, int vocab, int context, float ropeBase, float eps, boolean ropeFreqs, boolean biases,
            boolean tied) {
        int headDim() {
            return keyLength > 0 ? keyLength : embedding / heads;
        }

        Spec withContext(int c) {
            return new Spec(name, architecture, layers, embedding, ffn, heads, kvHeads, keyLength, vocab, c, ropeBase,
                    eps, ropeFreqs, biases, tied);
        }
    }

    /** Qwen3 with key_length 24 = D != E/H = 16, GQA 4/2, tied. */
    static final Spec QWEN3 = new Spec("tiny-qwen3", "qwen3", 2, 64, 96, 4, 2, 24, 53, 160, 1_000_000f, 1e-6f,
            false, false, true);
    /** Llama with adjacent-pair RoPE, rope_freqs divisors, GQA 4/1, untied. */
    static final Spec LLAMA = new Spec("tiny-llama", "llama", 2, 64, 80, 4, 1, 0, 61, 160, 500_000f, 1e-5f,
            true, false, false);
    /** Qwen2 with q/k/v biases, no GQA, tied. */
    static final Spec QWEN2 = new Spec("tiny-qwen2", "qwen2", 2, 48, 72, 3, 3, 0, 47, 160, 1_000_000f, 1e-6f,
            false, true, true);

    final Spec spec;
    final Map<String, float[]> weights = new LinkedHashMap<>();
    final InMemoryModelFile file;
    private final GgmlType matrixType;

    private TinyModel(Spec spec, long seed, GgmlType matrixType) {
        this.spec = spec;
        this.matrixType = matrixType;
        SplittableRandom rnd = new SplittableRandom(seed);
        int e = spec.embedding();
        int d = spec.headDim();
        int q = spec.heads() * d;
        int kv = spec.kvHeads() * d;
        List<TensorData> tensors = new ArrayList<>();
        tensors.add(matrix("token_embd.weight", e, spec.vocab(), 1.0, rnd));
        for (int l = 0; l < spec.layers(); l++) {
            String b = "blk." + l + ".";
            tensors.add(norm(b + "attn_norm.weight", e, rnd));
            tensors.add(matrix(b + "attn_q.weight", e, q, 1 / Math.sqrt(e), rnd));
            tensors.add(matrix(b + "attn_k.weight", e, kv, 1 / Math.sqrt(e), rnd));
            tensors.add(matrix(b + "attn_v.weight", e, kv, 1 / Math.sqrt(e), rnd));
            if (spec.biases()) {
                tensors.add(vector(b + "attn_q.bias", q, -0.2, 0.2, rnd));
                tensors.add(vector(b + "attn_k.bias", kv, -0.2, 0.2, rnd));
                tensors.add(vector(b + "attn_v.bias", kv, -0.2, 0.2, rnd));
            }
            if (spec.architecture().equals("qwen3")) {
                tensors.add(norm(b + "attn_q_norm.weight", d, rnd));
                tensors.add(norm(b + "attn_k_norm.weight", d, rnd));
            }
            tensors.add(matrix(b + "attn_output.weight", q, e, 1 / Math.sqrt(q), rnd));
            tensors.add(norm(b + "ffn_norm.weight", e, rnd));
            tensors.add(matrix(b + "ffn_gate.weight", e, spec.ffn(), 1 / Math.sqrt(e), rnd));
            tensors.add(matrix(b + "ffn_up.weight", e, spec.ffn(), 1 / Math.sqrt(e), rnd));
            tensors.add(matrix(b + "ffn_down.weight", spec.ffn(), e, 1 / Math.sqrt(spec.ffn()), rnd));
        }
        tensors.add(norm("output_norm.weight", e, rnd));
        if (!spec.tied()) {
            tensors.add(matrix("output.weight", e, spec.vocab(), 1 / Math.sqrt(e), rnd));
        }
        if (spec.ropeFreqs()) {
            tensors.add(vector("rope_freqs.weight", d / 2, 1.0, 8.0, rnd));
        }
        this.file = new InMemoryModelFile(spec.name(), metadata(spec), tensors);
    }

    static TinyModel of(Spec spec, long seed) {
        return new TinyModel(spec, seed, GgmlType.F32);
    }

    /** A model whose 2-D weights are stored as {@code matrixType}; {@link #weights} holds their dequantized values. */
    static TinyModel of(Spec spec, long seed, GgmlType matrixType) {
        return new TinyModel(spec, seed, matrixType);
    }

    static Map<String, GgufValue> metadata(Spec s) {
        String p = s.architecture() + ".";
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.ofString(s.architecture()));
        md.put("general.name", GgufValue.ofString(s.name()));
        md.put(p + "block_count", GgufValue.ofUInt32(s.layers()));
        md.put(p + "context_length", GgufValue.ofUInt32(s.context()));
        md.put(p + "embedding_length", GgufValue.ofUInt32(s.embedding()));
        md.put(p + "feed_forward_length", GgufValue.ofUInt32(s.ffn()));
        md.put(p + "attention.head_count", GgufValue.ofUInt32(s.heads()));
        md.put(p + "attention.head_count_kv", GgufValue.ofUInt32(s.kvHeads()));
        md.put(p + "rope.freq_base", GgufValue.ofFloat32(s.ropeBase()));
        md.put(p + "attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(s.eps()));
        if (s.keyLength() > 0) {
            md.put(p + "attention.key_length", GgufValue.ofUInt32(s.keyLength()));
            md.put(p + "attention.value_length", GgufValue.ofUInt32(s.keyLength()));
        }
        return md;
    }

    private TensorData matrix(String name, int in, int out, double amplitude, SplittableRandom rnd) {
        float[] v = new float[in * out];
        double a = amplitude * Math.sqrt(3);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-a, a);
        }
        TensorData t = TensorData.of(name, matrixType, new long[] {in, out}, Quantize.quantize(matrixType, v));
        weights.put(name, t.toFloatArray());
        return t;
    }

    private TensorData norm(String name, int n, SplittableRandom rnd) {
        return vector(name, n, 0.8, 1.2, rnd);
    }

    private TensorData vector(String name, int n, double lo, double hi, SplittableRandom rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(lo, hi);
        }
        return put(name, v, new long[] {n});
    }

    private TensorData put(String name, float[] values, long[] dims) {
        weights.put(name, values);
        return TensorData.of(name, GgmlType.F32, dims, Quantize.quantize(GgmlType.F32, values));
    }

    /** Random token ids of this model's vocabulary. */
    int[] randomTokens(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(spec.vocab());
        }
        return t;
    }
}
