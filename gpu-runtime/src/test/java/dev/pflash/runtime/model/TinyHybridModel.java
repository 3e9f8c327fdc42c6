package dev.pflash.runtime.model;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.GgufWriter;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.tokenizer.Vocabulary;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A tiny random qwen35 model written with {@link GgufWriter}: 4 layers with full attention every
 * 2nd (layers 1 and 3 gated attention, 0 and 2 DeltaNet) plus one trailing MTP block the loader
 * must skip; GQA 4/2 with head dim 16 of which 8 rotate; DeltaNet 2 key heads and 4 value heads
 * of 8, conv kernel 4; a tied LM head. Its float weights stay here for {@link NaiveHybrid}. With a
 * vocabulary it also carries a tokenizer, for engine tests.
 */
public final class TinyHybridModel {
    static final int LAYERS = 4;
    static final int INTERVAL = 2;
    static final int E = 32;
    static final int FFN = 48;
    static final int HEADS = 4;
    static final int KV_HEADS = 2;
    static final int HEAD_DIM = 16;
    static final int ROPE_DIMS = 8;
    static final int KEY_HEADS = 2;
    static final int VALUE_HEADS = 4;
    static final int KEY_DIM = 8;
    static final int VALUE_DIM = 8;
    static final int KERNEL = 4;
    static final int VOCAB = 40;
    static final int CONTEXT = 2048;
    static final float ROPE_BASE = 10_000f;
    static final float EPS = 1e-6f;
    static final int CHANNELS = 2 * KEY_HEADS * KEY_DIM + VALUE_HEADS * VALUE_DIM;

    /** Tensor name to (dims, float values), in file order. */
    final Map<String, Tensor> tensors = new LinkedHashMap<>();
    final Map<String, GgufValue> metadata = new LinkedHashMap<>();

    record Tensor(long[] dims, float[] values) {
    }

    final int vocab;

    TinyHybridModel(long seed) {
        this(seed, null);
    }

    /** A model whose vocabulary (and tokenizer metadata) is {@code vocabulary}; 40 tokens without one. */
    public TinyHybridModel(long seed, Vocabulary vocabulary) {
        this(seed, vocabulary == null ? VOCAB : vocabulary.size(), vocabulary);
    }

    /** A model of {@code vocab} token ids without tokenizer metadata. */
    public TinyHybridModel(long seed, int vocab) {
        this(seed, vocab, null);
    }

    private TinyHybridModel(long seed, int vocab, Vocabulary vocabulary) {
        SplittableRandom rnd = new SplittableRandom(seed);
        this.vocab = vocab;
        String p = "qwen35.";
        metadata.put("general.architecture", GgufValue.ofString("qwen35"));
        metadata.put("general.name", GgufValue.ofString("tiny-qwen35"));
        metadata.put(p + "block_count", GgufValue.ofUInt32(LAYERS + 1));
        metadata.put(p + "nextn_predict_layers", GgufValue.ofUInt32(1));
        metadata.put(p + "context_length", GgufValue.ofUInt32(CONTEXT));
        metadata.put(p + "embedding_length", GgufValue.ofUInt32(E));
        metadata.put(p + "feed_forward_length", GgufValue.ofUInt32(FFN));
        metadata.put(p + "attention.head_count", GgufValue.ofUInt32(HEADS));
        metadata.put(p + "attention.head_count_kv", GgufValue.ofUInt32(KV_HEADS));
        metadata.put(p + "attention.key_length", GgufValue.ofUInt32(HEAD_DIM));
        metadata.put(p + "attention.value_length", GgufValue.ofUInt32(HEAD_DIM));
        metadata.put(p + "attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(EPS));
        metadata.put(p + "full_attention_interval", GgufValue.ofUInt32(INTERVAL));
        metadata.put(p + "ssm.conv_kernel", GgufValue.ofUInt32(KERNEL));
        metadata.put(p + "ssm.inner_size", GgufValue.ofUInt32(VALUE_HEADS * VALUE_DIM));
        metadata.put(p + "ssm.state_size", GgufValue.ofUInt32(KEY_DIM));
        metadata.put(p + "ssm.time_step_rank", GgufValue.ofUInt32(VALUE_HEADS));
        metadata.put(p + "ssm.group_count", GgufValue.ofUInt32(KEY_HEADS));
        metadata.put(p + "rope.dimension_count", GgufValue.ofUInt32(ROPE_DIMS));
        metadata.put(p + "rope.dimension_sections", GgufValue.ofInt32s(java.util.List.of(2, 1, 1, 0)));
        metadata.put(p + "rope.freq_base", GgufValue.ofFloat32(ROPE_BASE));

        if (vocabulary != null) {
            vocabulary.writeTo(metadata::put);
        }
        matrix("token_embd.weight", E, vocab, 1.0, rnd);
        int q = HEADS * HEAD_DIM;
        int kv = KV_HEADS * HEAD_DIM;
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            vector(b + "attn_norm.weight", E, 0.8, 1.2, rnd);
            if ((l + 1) % INTERVAL == 0) {
                matrix(b + "attn_q.weight", E, 2 * q, 1 / Math.sqrt(E), rnd);
                matrix(b + "attn_k.weight", E, kv, 1 / Math.sqrt(E), rnd);
                matrix(b + "attn_v.weight", E, kv, 1 / Math.sqrt(E), rnd);
                vector(b + "attn_q_norm.weight", HEAD_DIM, 0.8, 1.2, rnd);
                vector(b + "attn_k_norm.weight", HEAD_DIM, 0.8, 1.2, rnd);
                matrix(b + "attn_output.weight", q, E, 1 / Math.sqrt(q), rnd);
            } else {
                matrix(b + "attn_qkv.weight", E, CHANNELS, 1 / Math.sqrt(E), rnd);
                matrix(b + "attn_gate.weight", E, VALUE_HEADS * VALUE_DIM, 1 / Math.sqrt(E), rnd);
                matrix(b + "ssm_alpha.weight", E, VALUE_HEADS, 1 / Math.sqrt(E), rnd);
                matrix(b + "ssm_beta.weight", E, VALUE_HEADS, 1 / Math.sqrt(E), rnd);
                put(b + "ssm_conv1d.weight", new long[] {KERNEL, CHANNELS}, uniform(KERNEL * CHANNELS, -0.6, 0.6, rnd));
                vector(b + "ssm_a", VALUE_HEADS, -2.0, -0.1, rnd);
                vector(b + "ssm_dt.bias", VALUE_HEADS, -1.0, 1.0, rnd);
                vector(b + "ssm_norm.weight", VALUE_DIM, 0.8, 1.2, rnd);
                matrix(b + "ssm_out.weight", VALUE_HEADS * VALUE_DIM, E, 1 / Math.sqrt(VALUE_HEADS * VALUE_DIM), rnd);
            }
            vector(b + "post_attention_norm.weight", E, 0.8, 1.2, rnd);
            matrix(b + "ffn_gate.weight", E, FFN, 1 / Math.sqrt(E), rnd);
            matrix(b + "ffn_up.weight", E, FFN, 1 / Math.sqrt(E), rnd);
            matrix(b + "ffn_down.weight", FFN, E, 1 / Math.sqrt(FFN), rnd);
        }
        // The MTP block: tensors a runtime that does not draft with it never reads.
        vector("blk." + LAYERS + ".attn_norm.weight", E, 0.8, 1.2, rnd);
        matrix("blk." + LAYERS + ".nextn.eh_proj.weight", 2 * E, E, 1 / Math.sqrt(E), rnd);
        vector("output_norm.weight", E, 0.8, 1.2, rnd);
    }

    float[] weight(String name) {
        return tensors.get(name).values();
    }

    /** Writes the model, after {@code change} edits a copy of its tensors and metadata (a corrupted file). */
    Path write(Path path, Consumer<TinyHybridModel> change) {
        TinyHybridModel copy = new TinyHybridModel(this);
        change.accept(copy);
        GgufWriter w = new GgufWriter();
        copy.metadata.forEach(w::put);
        copy.tensors.forEach((name, t) -> w.addTensor(name, GgmlType.F32, t.dims(), Quantize.quantize(GgmlType.F32,
                t.values())));
        w.write(path);
        return path;
    }

    public Path write(Path path) {
        return write(path, m -> { });
    }

    private TinyHybridModel(TinyHybridModel other) {
        vocab = other.vocab;
        tensors.putAll(other.tensors);
        metadata.putAll(other.metadata);
    }

    /** Random token ids of the vocabulary. */
    static int[] randomTokens(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(VOCAB);
        }
        return t;
    }

    private void matrix(String name, int in, int out, double amplitude, SplittableRandom rnd) {
        double a = amplitude * Math.sqrt(3);
        put(name, new long[] {in, out}, uniform(in * out, -a, a, rnd));
    }

    private void vector(String name, int n, double lo, double hi, SplittableRandom rnd) {
        put(name, new long[] {n}, uniform(n, lo, hi, rnd));
    }

    private static float[] uniform(int n, double lo, double hi, SplittableRandom rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextDouble(lo, hi);
        }
        return v;
    }

    void put(String name, long[] dims, float[] values) {
        tensors.put(name, new Tensor(dims, values));
    }
}
