package dev.pflash.runtime.models;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.GgufWriter;
import dev.pflash.runtime.gguf.InMemoryModelFile;
import dev.pflash.runtime.gguf.LlamaFileType;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.gguf.TensorData;
import dev.pflash.runtime.tokenizer.ByteLevelCodec;
import dev.pflash.runtime.tokenizer.TokenType;
import dev.pflash.runtime.tokenizer.Vocabulary;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Builds {@code synthetic:<preset>[?type=T]} models in memory: a real model's shapes and tensor
 * types with random (valid) weights and a byte-level vocabulary of the real size. Types: any
 * {@link GgmlType} name for every 2-D weight, or {@code Q4_K_M} for llama.cpp's mixed recipe
 * (Q4_K, with Q6_K for the output and for attn_v/ffn_down on the layers it upgrades). Norm
 * weights are F32 ones, as in real files. The same spec always gives the same bytes.
 */
public final class SyntheticModels {
    public static final String SCHEME = "synthetic:";
    /** Metadata key that marks a model as synthetic (its text is noise). */
    public static final String KEY_SYNTHETIC = "pflash.synthetic";

    static final String[] SPECIAL_TOKENS = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"};

    private SyntheticModels() {
    }

    public static boolean isSynthetic(String modelSpec) {
        return modelSpec.startsWith(SCHEME);
    }

    /** Opens {@code synthetic:<preset>[?type=T][&ctx=N]}. */
    public static ModelFile open(String spec) {
        if (!isSynthetic(spec)) {
            throw new IllegalArgumentException(spec + " is not a synthetic model name (" + SCHEME + "<preset>)");
        }
        String rest = spec.substring(SCHEME.length());
        String presetName = rest;
        String type = "Q8_0";
        Integer ctx = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            presetName = rest.substring(0, q);
            for (String kv : rest.substring(q + 1).split("&")) {
                String[] parts = kv.split("=", 2);
                if (parts.length != 2) {
                    throw new GgufException(spec, "bad parameter '" + kv + "'; expected type=<T> or ctx=<N>");
                }
                switch (parts[0]) {
                    case "type" -> type = parts[1].toUpperCase(Locale.ROOT);
                    case "ctx" -> ctx = parseCtx(spec, parts[1]);
                    default -> throw new GgufException(spec, "unknown parameter '" + parts[0] + "'; known: type, ctx");
                }
            }
        }
        SyntheticPreset preset = SyntheticPreset.find(presetName);
        if (preset == null) {
            throw new GgufException(spec, "unknown synthetic preset '" + presetName + "'; known: "
                    + String.join(", ", SyntheticPreset.names()));
        }
        WeightTypes types = WeightTypes.parse(spec, type);
        Map<String, GgufValue> extra = new LinkedHashMap<>();
        extra.put(KEY_SYNTHETIC, GgufValue.ofBool(true));
        if (types.fileType() != null) {
            extra.put(LlamaFileType.KEY, GgufValue.ofUInt32(types.fileType().id()));
        }
        return build(spec, preset, types, ctx == null ? preset.contextLength() : ctx,
                byteLevelVocabulary(preset.vocab()), extra);
    }

    /**
     * Writes the synthetic model {@code spec} to {@code path} as a GGUF file: the same metadata
     * (including {@value #KEY_SYNTHETIC}) and the same tensor bytes, so that another runtime
     * (llama.cpp's {@code llama-bench}) can be measured on exactly the model {@code bench} runs.
     */
    public static void write(String spec, Path path) {
        try (ModelFile model = open(spec)) {
            GgufWriter writer = new GgufWriter();
            model.metadata().asMap().forEach(writer::put);
            for (GgufTensorInfo info : model.tensorInfos()) {
                writer.addTensor(model.tensor(info.name()));
            }
            writer.write(path);
        }
    }

    private static int parseCtx(String spec, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new GgufException(spec, "ctx must be a positive integer, got '" + value + "'");
    }

    /**
     * A qwen3 model of the preset's shapes with random weights, the given vocabulary (its size
     * must be the preset's) and extra metadata keys.
     */
    static InMemoryModelFile build(String name, SyntheticPreset p, WeightTypes types, int contextLength,
            Vocabulary vocabulary, Map<String, GgufValue> extraMetadata) {
        if (vocabulary.size() != p.vocab()) {
            throw new IllegalArgumentException(name + ": vocabulary of " + vocabulary.size() + " tokens for a preset of "
                    + p.vocab());
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        String arch = p.isHybrid() ? "qwen35" : "qwen3";
        md.put("general.architecture", GgufValue.ofString(arch));
        md.put("general.name", GgufValue.ofString(name));
        md.putAll(new java.util.TreeMap<>(extraMetadata));
        md.put(arch + ".block_count", GgufValue.ofUInt32(p.layers()));
        md.put(arch + ".context_length", GgufValue.ofUInt32(contextLength));
        md.put(arch + ".embedding_length", GgufValue.ofUInt32(p.embedding()));
        md.put(arch + ".feed_forward_length", GgufValue.ofUInt32(p.feedForward()));
        md.put(arch + ".attention.head_count", GgufValue.ofUInt32(p.heads()));
        md.put(arch + ".attention.head_count_kv", GgufValue.ofUInt32(p.kvHeads()));
        md.put(arch + ".attention.key_length", GgufValue.ofUInt32(p.headDim()));
        md.put(arch + ".attention.value_length", GgufValue.ofUInt32(p.headDim()));
        md.put(arch + ".rope.freq_base", GgufValue.ofFloat32(1_000_000f));
        md.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(1e-6f));
        if (p.isHybrid()) {
            SyntheticPreset.Hybrid h = p.hybrid();
            md.put(arch + ".rope.freq_base", GgufValue.ofFloat32(10_000_000f));
            md.put(arch + ".rope.dimension_count", GgufValue.ofUInt32(h.ropeDims()));
            md.put(arch + ".rope.dimension_sections", GgufValue.ofInt32s(List.of(11, 11, 10, 0)));
            md.put(arch + ".full_attention_interval", GgufValue.ofUInt32(h.interval()));
            md.put(arch + ".ssm.conv_kernel", GgufValue.ofUInt32(h.convKernel()));
            md.put(arch + ".ssm.group_count", GgufValue.ofUInt32(h.keyHeads()));
            md.put(arch + ".ssm.state_size", GgufValue.ofUInt32(h.keyDim()));
            md.put(arch + ".ssm.time_step_rank", GgufValue.ofUInt32(h.valueHeads()));
            md.put(arch + ".ssm.inner_size", GgufValue.ofUInt32(h.valueHeads() * h.valueDim()));
        }
        vocabulary.writeTo(md::put);

        List<TensorSpec> specs = tensorSpecs(p, types);
        List<TensorData> tensors = new ArrayList<>(specs.size());
        List<FillTask> tasks = new ArrayList<>();
        try (ScratchFileArena arena = new ScratchFileArena()) {
            for (TensorSpec s : specs) {
                long rows = s.dims.length == 1 ? 1 : s.dims[1];
                long rowBytes = s.type.byteSize(s.dims[0]);
                long perPiece = ScratchFileArena.rowsPerPiece(rowBytes, rows);
                int nPieces = (int) ((rows + perPiece - 1) / perPiece);
                ByteBuffer[] pieces = new ByteBuffer[nPieces];
                for (int i = 0; i < nPieces; i++) {
                    long pieceRows = Math.min(perPiece, rows - i * perPiece);
                    pieces[i] = arena.allocate(pieceRows * rowBytes);
                    tasks.add(new FillTask(s, pieces[i], pieceRows * s.dims[0], tasks.size()));
                }
                tensors.add(new TensorData(s.name, s.type, s.dims, perPiece, pieces));
            }
        }
        // Each piece gets its own generator derived from its index, so the bytes do not depend
        // on how the work is spread over threads.
        IntStream.range(0, tasks.size()).parallel().forEach(i -> tasks.get(i).run());
        return new InMemoryModelFile(name, md, tensors);
    }

    /** A vocabulary of the 256 byte tokens, the Qwen special tokens, and unused fillers up to {@code size}. */
    public static Vocabulary byteLevelVocabulary(int size) {
        String[] tokens = new String[size];
        int[] types = new int[size];
        char[] byteChars = ByteLevelCodec.byteCharsInVocabularyOrder();
        int id = 0;
        for (char c : byteChars) {
            tokens[id] = String.valueOf(c);
            types[id++] = TokenType.NORMAL.id();
        }
        int firstSpecial = id;
        for (String s : SPECIAL_TOKENS) {
            tokens[id] = s;
            types[id++] = s.contains("think") ? TokenType.USER_DEFINED.id() : TokenType.CONTROL.id();
        }
        while (id < size) {
            tokens[id] = "[PAD" + id + "]";
            types[id++] = TokenType.UNUSED.id();
        }
        int endOfText = firstSpecial;
        int imEnd = firstSpecial + 2;
        return new Vocabulary(tokens, types, List.of(), endOfText, imEnd, endOfText, false, "qwen2");
    }

    static List<TensorSpec> tensorSpecs(SyntheticPreset p, WeightTypes types) {
        long e = p.embedding();
        long f = p.feedForward();
        long qDim = (long) p.heads() * p.headDim();
        long kvDim = (long) p.kvHeads() * p.headDim();
        List<TensorSpec> out = new ArrayList<>();
        // Embedding rows of RMS 2/sqrt(E): as a (tied) LM head they give logits of standard
        // deviation about 2, so sampling from a random model is not one token over and over.
        out.add(new TensorSpec("token_embd.weight", types.embedding(p.tiedOutput()), new long[] {e, p.vocab()},
                (float) (2 * Math.sqrt(3.0 / e)), 0f));
        int attentionLayer = 0;
        int attentionLayers = p.isHybrid() ? p.layers() / p.hybrid().interval() : p.layers();
        for (int l = 0; l < p.layers(); l++) {
            String b = "blk." + l + ".";
            if (p.isHybrid()) {
                out.add(TensorSpec.norm(b + "attn_norm.weight", e));
                if ((l + 1) % p.hybrid().interval() == 0) {
                    gatedAttention(out, b, p, types, attentionLayer++, attentionLayers);
                } else {
                    deltaNet(out, b, p, types);
                }
                out.add(TensorSpec.norm(b + "post_attention_norm.weight", e));
                out.add(TensorSpec.matrix(b + "ffn_gate.weight", types.attention(), e, f));
                out.add(TensorSpec.matrix(b + "ffn_up.weight", types.attention(), e, f));
                out.add(TensorSpec.matrix(b + "ffn_down.weight", types.upgraded(l, p.layers()), f, e));
                continue;
            }
            out.add(TensorSpec.norm(b + "attn_norm.weight", e));
            out.add(TensorSpec.matrix(b + "attn_q.weight", types.attention(), e, qDim));
            out.add(TensorSpec.matrix(b + "attn_k.weight", types.attention(), e, kvDim));
            out.add(TensorSpec.matrix(b + "attn_v.weight", types.upgraded(l, p.layers()), e, kvDim));
            out.add(TensorSpec.norm(b + "attn_q_norm.weight", p.headDim()));
            out.add(TensorSpec.norm(b + "attn_k_norm.weight", p.headDim()));
            out.add(TensorSpec.matrix(b + "attn_output.weight", types.attention(), qDim, e));
            out.add(TensorSpec.norm(b + "ffn_norm.weight", e));
            out.add(TensorSpec.matrix(b + "ffn_gate.weight", types.attention(), e, f));
            out.add(TensorSpec.matrix(b + "ffn_up.weight", types.attention(), e, f));
            out.add(TensorSpec.matrix(b + "ffn_down.weight", types.upgraded(l, p.layers()), f, e));
        }
        out.add(TensorSpec.norm("output_norm.weight", e));
        if (!p.tiedOutput()) {
            out.add(TensorSpec.matrix("output.weight", types.output(), e, p.vocab()));
        }
        return out;
    }

    /**
     * qwen35 gated attention: q packed with its gate; attn_v upgraded by its index among the
     * attention layers, as llama.cpp counts attn_v tensors.
     */
    private static void gatedAttention(List<TensorSpec> out, String b, SyntheticPreset p, WeightTypes types,
            int index, int count) {
        long e = p.embedding();
        long qDim = (long) p.heads() * p.headDim();
        long kvDim = (long) p.kvHeads() * p.headDim();
        out.add(TensorSpec.matrix(b + "attn_q.weight", types.attention(), e, 2 * qDim));
        out.add(TensorSpec.matrix(b + "attn_k.weight", types.attention(), e, kvDim));
        out.add(TensorSpec.matrix(b + "attn_v.weight", types.upgraded(index, count), e, kvDim));
        out.add(TensorSpec.norm(b + "attn_q_norm.weight", p.headDim()));
        out.add(TensorSpec.norm(b + "attn_k_norm.weight", p.headDim()));
        out.add(TensorSpec.matrix(b + "attn_output.weight", types.attention(), qDim, e));
    }

    /**
     * A Gated DeltaNet mixer. ssm_a = -1 and a zero dt bias give every head a decay of
     * e^(-softplus(a)), between strong and none, as trained models have.
     */
    private static void deltaNet(List<TensorSpec> out, String b, SyntheticPreset p, WeightTypes types) {
        SyntheticPreset.Hybrid h = p.hybrid();
        long e = p.embedding();
        long inner = (long) h.valueHeads() * h.valueDim();
        out.add(TensorSpec.matrix(b + "attn_qkv.weight", types.fusedQkv(), e, h.channels()));
        out.add(TensorSpec.matrix(b + "attn_gate.weight", types.attention(), e, inner));
        out.add(TensorSpec.matrix(b + "ssm_alpha.weight", types.gateProjection(), e, h.valueHeads()));
        out.add(TensorSpec.matrix(b + "ssm_beta.weight", types.gateProjection(), e, h.valueHeads()));
        out.add(new TensorSpec(b + "ssm_conv1d.weight", GgmlType.F32, new long[] {h.convKernel(), h.channels()},
                (float) Math.sqrt(3.0 / h.convKernel()), 0f));
        out.add(TensorSpec.constant(b + "ssm_a", h.valueHeads(), -1f));
        out.add(TensorSpec.constant(b + "ssm_dt.bias", h.valueHeads(), 0f));
        out.add(TensorSpec.norm(b + "ssm_norm.weight", h.valueDim()));
        out.add(TensorSpec.matrix(b + "ssm_out.weight", types.attention(), inner, e));
    }

    /** One tensor to create: ne0-first dims; {@code scale} is the weights' magnitude, 0 for all {@code constant}. */
    record TensorSpec(String name, GgmlType type, long[] dims, float scale, float constant) {
        static TensorSpec norm(String name, long n) {
            return constant(name, n, 1f);
        }

        static TensorSpec constant(String name, long n, float value) {
            return new TensorSpec(name, GgmlType.F32, new long[] {n}, 0f, value);
        }

        /** Uniform weights of variance 1/cols keep activations of order one through the layers. */
        static TensorSpec matrix(String name, GgmlType type, long cols, long rows) {
            return new TensorSpec(name, type, new long[] {cols, rows}, (float) Math.sqrt(3.0 / cols), 0f);
        }
    }

    private record FillTask(TensorSpec spec, ByteBuffer piece, long elements, int index) {
        void run() {
            if (spec.scale == 0f) {
                for (int i = 0; i < elements; i++) {
                    piece.putFloat(i * 4, spec.constant);
                }
            } else {
                Quantize.fillRandom(spec.type, piece, elements, new SplittableRandom(0x5EEDL * 1_000_003L + index),
                        spec.scale);
            }
        }
    }
}
