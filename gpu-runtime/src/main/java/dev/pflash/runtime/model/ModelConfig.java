package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.DeltaNetShape;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufMetadata;
import dev.pflash.runtime.gguf.GgufTensorInfo;
import dev.pflash.runtime.gguf.ModelFile;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The hyperparameters of a decoder-only transformer, read from GGUF metadata and checked against
 * the tensors that depend on them (GGUF-QWEN3.md sections 3 and 4).
 *
 * @param name {@code general.name}, else the file name
 * @param layers decoder blocks
 * @param embeddingDim E, the residual stream width
 * @param ffnDim F, the SwiGLU hidden width
 * @param heads H, query heads
 * @param kvHeads KV, key/value heads (grouped-query attention when fewer than H)
 * @param headDim D, width of one head ({@code attention.key_length}, else E / H)
 * @param vocabSize rows of {@code token_embd.weight}
 * @param contextLength the longest sequence the model was trained for
 * @param ropeBase RoPE frequency base (theta)
 * @param ropeDims leading dimensions of each head that RoPE rotates
 * @param ropeScale linear RoPE scaling: positions are divided by it (1 for none)
 * @param rmsEps epsilon of every RMSNorm
 * @param attentionScale factor of q.k ({@code attention.scale}, else 1/sqrt(D))
 * @param attentionBias whether q, k and v have biases ({@code blk.N.attn_q.bias} ...)
 * @param outputBias whether the logits have a bias ({@code output.bias})
 * @param tiedOutput whether the LM head is {@code token_embd.weight} (no {@code output.weight})
 * @param hybrid the layer mix of a qwen35 model; empty when every layer is attention
 */
public record ModelConfig(String name, Architecture architecture, int layers, int embeddingDim, int ffnDim,
        int heads, int kvHeads, int headDim, int vocabSize, int contextLength, float ropeBase, int ropeDims,
        float ropeScale, float rmsEps, float attentionScale, boolean attentionBias, boolean outputBias,
        boolean tiedOutput, Optional<HybridLayout> hybrid) {

    /** A model whose layers are all attention. */
    public ModelConfig(String name, Architecture architecture, int layers, int embeddingDim, int ffnDim,
            int heads, int kvHeads, int headDim, int vocabSize, int contextLength, float ropeBase, int ropeDims,
            float ropeScale, float rmsEps, float attentionScale, boolean attentionBias, boolean outputBias,
            boolean tiedOutput) {
        this(name, architecture, layers, embeddingDim, ffnDim, heads, kvHeads, headDim, vocabSize, contextLength,
                ropeBase, ropeDims, ropeScale, rmsEps, attentionScale, attentionBias, outputBias, tiedOutput,
                Optional.empty());
    }

    public ModelConfig {
        Objects.requireNonNull(hybrid, "hybrid layout (Optional.empty() for none)");
        if (layers <= 0 || embeddingDim <= 0 || ffnDim <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0
                || vocabSize <= 0 || contextLength <= 0) {
            throw new IllegalArgumentException("model " + name + ": every size must be positive: layers=" + layers
                    + " E=" + embeddingDim + " F=" + ffnDim + " H=" + heads + " KV=" + kvHeads + " D=" + headDim
                    + " vocab=" + vocabSize + " context=" + contextLength);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("model " + name + ": " + heads + " heads are not a multiple of "
                    + kvHeads + " kv heads");
        }
        if (ropeDims <= 0 || ropeDims % 2 != 0 || ropeDims > headDim) {
            throw new IllegalArgumentException("model " + name + ": RoPE dimension count " + ropeDims
                    + " must be even and within the head dim " + headDim);
        }
        if (!(ropeScale > 0) || Float.isInfinite(ropeScale)) {
            throw new IllegalArgumentException("model " + name + ": RoPE scale must be positive, got " + ropeScale);
        }
    }

    /**
     * Reads the config of {@code file} from its metadata {@code md} and checks it against the
     * embedding table and the first block's attention weights.
     *
     * @throws GgufException for an unsupported architecture, a missing or invalid key, or a tensor
     *     whose shape contradicts the metadata
     */
    public static ModelConfig fromMetadata(GgufMetadata md, ModelFile file) {
        String src = file.name();
        Architecture arch = Architecture.fromKey(src, md.getString("general.architecture"));
        String p = arch.key() + ".";
        int layers = positive(md, src, p + "block_count");
        int e = positive(md, src, p + "embedding_length");
        int f = positive(md, src, p + "feed_forward_length");
        int h = positive(md, src, p + "attention.head_count");
        int kv = md.has(p + "attention.head_count_kv") ? positive(md, src, p + "attention.head_count_kv") : h;
        if (h % kv != 0) {
            throw new GgufException(src, p + "attention.head_count = " + h + " is not a multiple of "
                    + p + "attention.head_count_kv = " + kv);
        }
        int d;
        if (md.has(p + "attention.key_length")) {
            d = positive(md, src, p + "attention.key_length");
        } else if (e % h == 0) {
            d = e / h;
        } else {
            throw new GgufException(src, p + "embedding_length = " + e + " is not a multiple of "
                    + p + "attention.head_count = " + h + " and " + p + "attention.key_length is absent");
        }
        if (md.has(p + "attention.value_length") && md.getInt(p + "attention.value_length") != d) {
            throw new GgufException(src, p + "attention.value_length = " + md.getInt(p + "attention.value_length")
                    + " differs from the key length " + d + "; only equal key and value lengths are supported");
        }
        int ropeDims = md.getInt(p + "rope.dimension_count", d);
        if (ropeDims <= 0 || ropeDims % 2 != 0 || ropeDims > d) {
            throw new GgufException(src, p + "rope.dimension_count = " + ropeDims
                    + " must be positive, even and at most the head dim " + d);
        }
        float ropeBase = md.getFloat(p + "rope.freq_base", 10000f);
        if (!(ropeBase > 0)) {
            throw new GgufException(src, p + "rope.freq_base = " + ropeBase + " must be positive");
        }
        float ropeScale = ropeScale(md, src, p);
        float eps = md.getFloat(p + "attention.layer_norm_rms_epsilon");
        if (!(eps >= 0)) {
            throw new GgufException(src, p + "attention.layer_norm_rms_epsilon = " + eps + " must be >= 0");
        }
        int ctx = positive(md, src, p + "context_length");
        float scale = md.has(p + "attention.scale") ? md.getFloat(p + "attention.scale") : (float) (1 / Math.sqrt(d));

        Map<String, long[]> dims = new HashMap<>();
        for (GgufTensorInfo info : file.tensorInfos()) {
            dims.put(info.name(), info.dims());
        }
        long[] embd = dims.get("token_embd.weight");
        if (embd == null) {
            throw new GgufException(src, "missing required tensor token_embd.weight");
        }
        if (embd.length != 2 || embd[0] != e || embd[1] > Integer.MAX_VALUE) {
            TensorShapes.expect(src, "token_embd.weight", embd, "[E, vocab]", e, embd.length > 1 ? embd[1] : 0);
        }
        int vocab = (int) embd[1];
        String name = md.findString("general.name").orElse(src);
        Optional<HybridLayout> hybrid = Optional.empty();
        if (arch == Architecture.QWEN35) {
            hybrid = Optional.of(hybridLayout(md, src, layers, eps, dims));
            layers -= hybrid.get().skippedLayers();
        }
        ModelConfig c = new ModelConfig(name, arch, layers, e, f, h, kv, d, vocab, ctx, ropeBase, ropeDims, ropeScale,
                eps, scale,
                dims.containsKey("blk.0.attn_q.bias"), dims.containsKey("output.bias"),
                !dims.containsKey("output.weight"), hybrid);
        int first = c.firstAttentionLayer();
        if (c.layerKind(first) == LayerKind.GATED_ATTENTION) {
            c.expectTensor(src, dims, "blk." + first + ".attn_q.weight", "[E, 2*H*D]", e, 2L * h * d);
        } else {
            c.expectTensor(src, dims, "blk." + first + ".attn_q.weight", "[E, H*D]", e, (long) h * d);
        }
        c.expectTensor(src, dims, "blk." + first + ".attn_k.weight", "[E, KV*D]", e, (long) kv * d);
        return c;
    }

    /**
     * The layer mix of a qwen35 file: the DeltaNet shape from its {@code ssm.*} keys, and each
     * layer's kind from the tensors present, which must agree with {@code full_attention_interval}.
     */
    private static HybridLayout hybridLayout(GgufMetadata md, String src, int blocks, float eps,
            Map<String, long[]> dims) {
        String p = Architecture.QWEN35.key() + ".";
        int interval = positive(md, src, p + "full_attention_interval");
        int kernel = positive(md, src, p + "ssm.conv_kernel");
        int keyHeads = positive(md, src, p + "ssm.group_count");
        int keyDim = positive(md, src, p + "ssm.state_size");
        int valueHeads = positive(md, src, p + "ssm.time_step_rank");
        int inner = positive(md, src, p + "ssm.inner_size");
        if (inner % valueHeads != 0 || valueHeads % keyHeads != 0) {
            throw new GgufException(src, p + "ssm.inner_size = " + inner + " must be a multiple of " + p
                    + "ssm.time_step_rank = " + valueHeads + ", which must be a multiple of " + p
                    + "ssm.group_count = " + keyHeads);
        }
        int skipped = md.has(p + "nextn_predict_layers") ? md.getInt(p + "nextn_predict_layers") : 0;
        if (skipped < 0 || skipped >= blocks) {
            throw new GgufException(src, p + "nextn_predict_layers = " + skipped + " must be >= 0 and below "
                    + p + "block_count = " + blocks);
        }
        HybridLayout layout = new HybridLayout(interval, kernel,
                new DeltaNetShape(keyHeads, valueHeads, keyDim, inner / valueHeads, eps), skipped);
        for (int i = 0; i < blocks - skipped; i++) {
            String deltaNet = "blk." + i + ".attn_qkv.weight";
            String attention = "blk." + i + ".attn_q.weight";
            boolean isDeltaNet = dims.containsKey(deltaNet);
            boolean isAttention = dims.containsKey(attention);
            if (isDeltaNet == isAttention) {
                throw new GgufException(src, "layer " + i + (isDeltaNet ? " has both " : " has neither ") + deltaNet
                        + (isDeltaNet ? " and " : " nor ") + attention + "; a qwen35 layer is DeltaNet or attention");
            }
            LayerKind expected = layout.kind(i);
            if ((expected == LayerKind.DELTA_NET) != isDeltaNet) {
                throw new GgufException(src, "layer " + i + " has " + (isDeltaNet ? deltaNet : attention) + " but "
                        + p + "full_attention_interval = " + interval + " makes it "
                        + (expected == LayerKind.DELTA_NET ? "a DeltaNet layer" : "a full-attention layer"));
            }
        }
        return layout;
    }

    /** What mixes tokens in layer {@code layer}. */
    public LayerKind layerKind(int layer) {
        return hybrid.map(h -> h.kind(layer)).orElse(LayerKind.ATTENTION);
    }

    /** Layers that keep a KV cache. */
    public int kvLayers() {
        int n = 0;
        for (int l = 0; l < layers; l++) {
            n += layerKind(l).hasKvCache() ? 1 : 0;
        }
        return n;
    }

    private int firstAttentionLayer() {
        for (int l = 0; l < layers; l++) {
            if (layerKind(l).hasKvCache()) {
                return l;
            }
        }
        throw new IllegalArgumentException("model " + name + " has no attention layer");
    }

    private void expectTensor(String src, Map<String, long[]> dims, String tensor, String formula, long... expected) {
        long[] actual = dims.get(tensor);
        if (actual == null) {
            throw new GgufException(src, "missing required tensor " + tensor);
        }
        TensorShapes.expect(src, tensor, actual, formula, expected);
    }

    /**
     * Linear RoPE scaling from {@code rope.scaling.type}/{@code rope.scaling.factor} (or the older
     * {@code rope.scale_linear}); other scalings (YaRN, ...) change every position's rotation, so a
     * file that asks for one is refused rather than run wrongly.
     */
    private static float ropeScale(GgufMetadata md, String src, String p) {
        float factor = 1f;
        if (md.has(p + "rope.scaling.type")) {
            String type = md.getString(p + "rope.scaling.type");
            switch (type) {
                case "none" -> factor = 1f;
                case "linear" -> factor = md.getFloat(p + "rope.scaling.factor", 1f);
                default -> throw new GgufException(src, p + "rope.scaling.type = " + type
                        + " is not supported; supported: none, linear");
            }
        } else if (md.has(p + "rope.scale_linear")) {
            factor = md.getFloat(p + "rope.scale_linear");
        }
        if (!(factor > 0) || Float.isInfinite(factor)) {
            throw new GgufException(src, "RoPE scaling factor " + factor + " must be positive");
        }
        return factor;
    }

    private static int positive(GgufMetadata md, String src, String key) {
        int v = md.getInt(key);
        if (v <= 0) {
            throw new GgufException(src, "metadata key " + key + " = " + v + " must be positive");
        }
        return v;
    }

    /** Floats of one token's queries: H*D. */
    public int queryDim() {
        return heads * headDim;
    }

    /** Floats of one token's keys (or values) in one layer: KV*D. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    public AttentionShape attentionShape() {
        return new AttentionShape(heads, kvHeads, headDim, attentionScale);
    }

    /** KV-cache bytes per token over the attention layers, keys and values stored as {@code type}. */
    public long kvBytesPerToken(ElementType type) {
        return (long) kvLayers() * 2 * type.bytes(kvDim());
    }

    /** Bytes of one sequence's recurrent and convolution state over the DeltaNet layers; 0 for a dense model. */
    public long recurrentStateBytes() {
        return hybrid.map(h -> (long) (layers - kvLayers()) * (h.deltaNet().stateSize() + h.convStateSize())
                * Float.BYTES).orElse(0L);
    }

    /** Number of weights, counting a tied embedding once; biases and norm vectors included. */
    public long parameterCount() {
        long e = embeddingDim;
        long common = 2 * e + 3 * e * ffnDim;                        // attn_norm, ffn_norm; gate, up, down
        long attention = e * queryDim() + 2 * e * kvDim() + queryDim() * e  // q, k, v, output
                + (architecture.qkNorm() ? 2L * headDim : 0)
                + (attentionBias ? queryDim() + 2L * kvDim() : 0);
        long total = (long) vocabSize * e * (tiedOutput ? 1 : 2)
                + (outputBias ? vocabSize : 0)
                + e;                                                  // output_norm
        for (int l = 0; l < layers; l++) {
            total += common + switch (layerKind(l)) {
                case ATTENTION -> attention;
                case GATED_ATTENTION -> attention + e * queryDim();  // the gate half of attn_q
                case DELTA_NET -> deltaNetParameters();
            };
        }
        return total;
    }

    private long deltaNetParameters() {
        HybridLayout h = hybrid.orElseThrow();
        DeltaNetShape s = h.deltaNet();
        long e = embeddingDim;
        return e * s.channels() + e * s.valueWidth()                 // qkv, z gate
                + 2 * e * s.valueHeads() + 2L * s.valueHeads()        // alpha, beta; A, dt bias
                + (long) s.channels() * h.convKernel()                // conv
                + s.valueDim() + (long) s.valueWidth() * e;           // norm, out
    }
}
