package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeltaNetShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.gguf.TensorData;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * All weights of a model, uploaded to one backend. {@code output} is the LM head: the embedding
 * table itself when the model ties them. {@code ropeFrequencyDivisors} are llama's
 * {@code rope_freqs.weight} values, one per rotated pair.
 */
public record Weights(
        WeightMatrix tokenEmbedding,
        List<BlockWeights> layers,
        DeviceBuffer outputNorm,
        WeightMatrix output,
        Optional<DeviceBuffer> outputBias,
        Optional<float[]> ropeFrequencyDivisors) implements AutoCloseable {

    public Weights {
        layers = List.copyOf(layers);
    }

    /**
     * Uploads every tensor that {@code config} calls for, checking each one's shape.
     *
     * @throws GgufException naming the file and the tensor when one is missing or misshapen
     */
    public static Weights load(ModelFile file, ModelConfig config, Backend backend) {
        Loader l = new Loader(file, backend);
        long e = config.embeddingDim();
        WeightMatrix embedding = config.tiedOutput()
                ? l.matrix("token_embd.weight", "[E, vocab]", e, config.vocabSize())
                : l.table("token_embd.weight", "[E, vocab]", e, config.vocabSize());
        List<BlockWeights> layers = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            layers.add(config.layerKind(i) == LayerKind.DELTA_NET ? deltaNet(l, config, i) : attention(l, config, i));
        }
        DeviceBuffer outputNorm = l.vector("output_norm.weight", "[E]", e);
        WeightMatrix output = config.tiedOutput()
                ? embedding
                : l.matrix("output.weight", "[E, vocab]", e, config.vocabSize());
        Optional<DeviceBuffer> outputBias = l.optionalVector(config.outputBias(), "output.bias", "[vocab]",
                config.vocabSize());
        Optional<float[]> divisors = file.findTensor("rope_freqs.weight").map(t -> {
            TensorShapes.expect(file.name(), t.name(), t.dims(), "[rope dims / 2]", config.ropeDims() / 2);
            return t.toFloatArray();
        });
        return new Weights(embedding, layers, outputNorm, output, outputBias, divisors);
    }

    /** The weights of block {@code i}, of the kind {@link ModelConfig#layerKind} says. */
    public BlockWeights block(int i) {
        return layers.get(i);
    }

    /**
     * The weights of attention block {@code i}.
     *
     * @throws IllegalArgumentException if block {@code i} is not an attention block
     */
    public LayerWeights layer(int i) {
        if (layers.get(i) instanceof LayerWeights w) {
            return w;
        }
        throw new IllegalArgumentException("block " + i + " is a DeltaNet block, not attention");
    }

    private static LayerWeights attention(Loader l, ModelConfig config, int i) {
        long e = config.embeddingDim();
        long d = config.headDim();
        long q = config.queryDim();
        long kv = config.kvDim();
        String b = "blk." + i + ".";
        boolean bias = config.attentionBias();
        boolean qkNorm = config.architecture().qkNorm();
        boolean gated = config.layerKind(i) == LayerKind.GATED_ATTENTION;
        return new LayerWeights(
                l.vector(b + "attn_norm.weight", "[E]", e),
                gated ? l.matrix(b + "attn_q.weight", "[E, 2*H*D]", e, 2 * q)
                        : l.matrix(b + "attn_q.weight", "[E, H*D]", e, q),
                l.matrix(b + "attn_k.weight", "[E, KV*D]", e, kv),
                l.matrix(b + "attn_v.weight", "[E, KV*D]", e, kv),
                l.optionalVector(bias, b + "attn_q.bias", "[H*D]", q),
                l.optionalVector(bias, b + "attn_k.bias", "[KV*D]", kv),
                l.optionalVector(bias, b + "attn_v.bias", "[KV*D]", kv),
                l.optionalVector(qkNorm, b + "attn_q_norm.weight", "[D]", d),
                l.optionalVector(qkNorm, b + "attn_k_norm.weight", "[D]", d),
                l.matrix(b + "attn_output.weight", "[H*D, E]", q, e),
                l.vector(b + ffnNormName(config), "[E]", e),
                l.matrix(b + "ffn_gate.weight", "[E, F]", e, config.ffnDim()),
                l.matrix(b + "ffn_up.weight", "[E, F]", e, config.ffnDim()),
                l.matrix(b + "ffn_down.weight", "[F, E]", config.ffnDim(), e));
    }

    private static DeltaNetWeights deltaNet(Loader l, ModelConfig config, int i) {
        HybridLayout hybrid = config.hybrid().orElseThrow();
        DeltaNetShape s = hybrid.deltaNet();
        long e = config.embeddingDim();
        long heads = s.valueHeads();
        String b = "blk." + i + ".";
        return new DeltaNetWeights(
                l.vector(b + "attn_norm.weight", "[E]", e),
                l.matrix(b + "attn_qkv.weight", "[E, 2*Hk*dk + Hv*dv]", e, s.channels()),
                l.matrix(b + "attn_gate.weight", "[E, Hv*dv]", e, s.valueWidth()),
                l.matrix(b + "ssm_alpha.weight", "[E, Hv]", e, heads),
                l.matrix(b + "ssm_beta.weight", "[E, Hv]", e, heads),
                l.vector(b + "ssm_conv1d.weight", "[conv kernel, 2*Hk*dk + Hv*dv]", hybrid.convKernel(), s.channels()),
                l.vector(b + "ssm_a", "[Hv]", heads),
                l.vector(b + "ssm_dt.bias", "[Hv]", heads),
                l.vector(b + "ssm_norm.weight", "[dv]", s.valueDim()),
                l.matrix(b + "ssm_out.weight", "[Hv*dv, E]", s.valueWidth(), e),
                l.vector(b + ffnNormName(config), "[E]", e),
                l.matrix(b + "ffn_gate.weight", "[E, F]", e, config.ffnDim()),
                l.matrix(b + "ffn_up.weight", "[E, F]", e, config.ffnDim()),
                l.matrix(b + "ffn_down.weight", "[F, E]", config.ffnDim(), e));
    }

    /** qwen35 files name the norm before the feed-forward after HF's post_attention_layernorm. */
    private static String ffnNormName(ModelConfig config) {
        return config.architecture() == Architecture.QWEN35 ? "post_attention_norm.weight" : "ffn_norm.weight";
    }

    /** Releases every weight's backend memory. */
    @Override
    public void close() {
        layers.forEach(BlockWeights::close);
        tokenEmbedding.close();
        if (output != tokenEmbedding) {
            output.close();
        }
        outputNorm.close();
        outputBias.ifPresent(DeviceBuffer::close);
    }

    /** Fetches, checks and uploads tensors of one file. */
    private static final class Loader {
        private final ModelFile file;
        private final Backend backend;

        Loader(ModelFile file, Backend backend) {
            this.file = file;
            this.backend = backend;
        }

        WeightMatrix matrix(String name, String formula, long... dims) {
            return upload(name, formula, dims, false);
        }

        /** A matrix only looked up by row ({@link Backend#uploadTable}). */
        WeightMatrix table(String name, String formula, long... dims) {
            return upload(name, formula, dims, true);
        }

        private WeightMatrix upload(String name, String formula, long[] dims, boolean table) {
            TensorData t = file.tensor(name);
            TensorShapes.expect(file.name(), name, t.dims(), formula, dims);
            try {
                return table ? backend.uploadTable(t) : backend.upload(t);
            } catch (IllegalArgumentException ex) {
                throw new GgufException(file.name(), ex.getMessage(), ex);
            }
        }

        /** A 1-D (or small 2-D, read whole) float tensor. */
        DeviceBuffer vector(String name, String formula, long... dims) {
            TensorData t = file.tensor(name);
            TensorShapes.expect(file.name(), name, t.dims(), formula, dims);
            return backend.upload(t.toFloatArray());
        }

        Optional<DeviceBuffer> optionalVector(boolean present, String name, String formula, long length) {
            return present ? Optional.of(vector(name, formula, length)) : Optional.empty();
        }
    }
}
