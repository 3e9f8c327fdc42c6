package dev.pflash.runtime.pflash;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.InMemoryModelFile;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.gguf.TensorData;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Weights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Small qwen3 drafters built in memory with F32 weights, which are kept here too so that a naive
 * reference reads exactly what the model holds: random ones, and one whose attention follows token
 * identity.
 */
final class TinyDrafter {
    static final int CONTEXT = 1 << 17;

    final int layers;
    final int embedding;
    final int ffn;
    final int heads;
    final int kvHeads;
    final int headDim;
    final int vocab;
    final Map<String, float[]> weights = new LinkedHashMap<>();
    final InMemoryModelFile file;

    private TinyDrafter(String name, int layers, int embedding, int ffn, int heads, int kvHeads, int headDim, int vocab,
            WeightSource source) {
        this.layers = layers;
        this.embedding = embedding;
        this.ffn = ffn;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.vocab = vocab;
        int q = heads * headDim;
        int kv = kvHeads * headDim;
        List<TensorData> tensors = new ArrayList<>();
        tensors.add(tensor("token_embd.weight", source, embedding, vocab));
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            tensors.add(tensor(b + "attn_norm.weight", source, embedding));
            tensors.add(tensor(b + "attn_q.weight", source, embedding, q));
            tensors.add(tensor(b + "attn_k.weight", source, embedding, kv));
            tensors.add(tensor(b + "attn_v.weight", source, embedding, kv));
            tensors.add(tensor(b + "attn_q_norm.weight", source, headDim));
            tensors.add(tensor(b + "attn_k_norm.weight", source, headDim));
            tensors.add(tensor(b + "attn_output.weight", source, q, embedding));
            tensors.add(tensor(b + "ffn_norm.weight", source, embedding));
            tensors.add(tensor(b + "ffn_gate.weight", source, embedding, ffn));
            tensors.add(tensor(b + "ffn_up.weight", source, embedding, ffn));
            tensors.add(tensor(b + "ffn_down.weight", source, ffn, embedding));
        }
        tensors.add(tensor("output_norm.weight", source, embedding));
        this.file = new InMemoryModelFile(name, metadata(name), tensors);
    }

    /** Fills a tensor of the given GGUF dims (ne0 first). */
    @FunctionalInterface
    private interface WeightSource {
        float[] values(String name, long[] dims);
    }

    /** Random weights of variance about 1/fan-in, norms near 1. */
    static TinyDrafter random(int layers, int embedding, int ffn, int heads, int kvHeads, int headDim, int vocab,
            long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return new TinyDrafter("tiny-random-drafter", layers, embedding, ffn, heads, kvHeads, headDim, vocab,
                (name, dims) -> {
                    int n = (int) (dims.length == 1 ? dims[0] : dims[0] * dims[1]);
                    float[] v = new float[n];
                    boolean norm = dims.length == 1;
                    double a = name.equals("token_embd.weight") ? 1.0 : Math.sqrt(3.0 / dims[0]);
                    for (int i = 0; i < n; i++) {
                        v[i] = (float) (norm ? rnd.nextDouble(0.8, 1.2) : rnd.nextDouble(-a, a));
                    }
                    return v;
                });
    }

    /**
     * A drafter whose attention follows token identity: token {@code t} embeds as the one-hot vector
     * {@code e_t} (so {@code vocab == embedding == headDim}, one head), q and k project it unchanged,
     * and the q-norm gain makes {@code q . k / sqrt(D) = 8 * gain} for equal tokens and 0 otherwise, so
     * a query attends to the earlier copies of its own token. The attention output and the
     * feed-forward write zero, so every layer sees the embeddings and scores the same way.
     */
    static TinyDrafter identity(int vocab, int layers, float gain) {
        return new TinyDrafter("identity-drafter", layers, vocab, vocab, 1, 1, vocab, vocab, (name, dims) -> {
            int n = (int) (dims.length == 1 ? dims[0] : dims[0] * dims[1]);
            float[] v = new float[n];
            if (dims.length == 1) {
                java.util.Arrays.fill(v, name.endsWith("attn_q_norm.weight") ? gain : 1f);
            } else if (name.endsWith("attn_output.weight") || name.endsWith("ffn_down.weight")) {
                return v;
            } else {
                for (int i = 0; i < Math.min(dims[0], dims[1]); i++) {
                    v[(int) (i * dims[0] + i)] = 1f;
                }
            }
            return v;
        });
    }

    private TensorData tensor(String name, WeightSource source, long... dims) {
        float[] values = source.values(name, dims);
        weights.put(name, values);
        return TensorData.of(name, GgmlType.F32, dims, Quantize.quantize(GgmlType.F32, values));
    }

    private Map<String, GgufValue> metadata(String name) {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.ofString("qwen3"));
        md.put("general.name", GgufValue.ofString(name));
        md.put("qwen3.block_count", GgufValue.ofUInt32(layers));
        md.put("qwen3.context_length", GgufValue.ofUInt32(CONTEXT));
        md.put("qwen3.embedding_length", GgufValue.ofUInt32(embedding));
        md.put("qwen3.feed_forward_length", GgufValue.ofUInt32(ffn));
        md.put("qwen3.attention.head_count", GgufValue.ofUInt32(heads));
        md.put("qwen3.attention.head_count_kv", GgufValue.ofUInt32(kvHeads));
        md.put("qwen3.attention.key_length", GgufValue.ofUInt32(headDim));
        md.put("qwen3.attention.value_length", GgufValue.ofUInt32(headDim));
        md.put("qwen3.rope.freq_base", GgufValue.ofFloat32(10_000f));
        md.put("qwen3.attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-6f));
        return md;
    }

    ModelConfig config() {
        return ModelConfig.fromMetadata(file.metadata(), file);
    }

    Weights load(Backend backend) {
        return Weights.load(file, config(), backend);
    }

    float[] w(String name) {
        return weights.get(name);
    }
}
