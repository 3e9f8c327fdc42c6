package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.Backend;
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
        List<LayerWeights> layers,
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
        long f = config.ffnDim();
        long d = config.headDim();
        long q = config.queryDim();
        long kv = config.kvDim();
        WeightMatrix embedding = l.matrix("token_embd.weight", "[E, vocab]", e, config.vocabSize());
        List<LayerWeights> layers = new ArrayList<>(config.layers());
        for (int i = 0; i < config.layers(); i++) {
            String b = "blk." + i + ".";
            boolean bias = config.attentionBias();
            boolean qkNorm = config.architecture().qkNorm();
            layers.add(new LayerWeights(
                    l.vector(b + "attn_norm.weight", "[E]", e),
                    l.matrix(b + "attn_q.weight", "[E, H*D]", e, q),
                    l.matrix(b + "attn_k.weight", "[E, KV*D]", e, kv),
                    l.matrix(b + "attn_v.weight", "[E, KV*D]", e, kv),
                    l.optionalVector(bias, b + "attn_q.bias", "[H*D]", q),
                    l.optionalVector(bias, b + "attn_k.bias", "[KV*D]", kv),
                    l.optionalVector(bias, b + "attn_v.bias", "[KV*D]", kv),
                    l.optionalVector(qkNorm, b + "attn_q_norm.weight", "[D]", d),
                    l.optionalVector(qkNorm, b + "attn_k_norm.weight", "[D]", d),
                    l.matrix(b + "attn_output.weight", "[H*D, E]", q, e),
                    l.vector(b + "ffn_norm.weight", "[E]", e),
                    l.matrix(b + "ffn_gate.weight", "[E, F]", e, f),
                    l.matrix(b + "ffn_up.weight", "[E, F]", e, f),
                    l.matrix(b + "ffn_down.weight", "[F, E]", f, e)));
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

    public LayerWeights layer(int i) {
        return layers.get(i);
    }

    /** Releases every weight's backend memory. */
    @Override
    public void close() {
        layers.forEach(LayerWeights::close);
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
            TensorData t = file.tensor(name);
            TensorShapes.expect(file.name(), name, t.dims(), formula, dims);
            try {
                return backend.upload(t);
            } catch (IllegalArgumentException ex) {
                throw new GgufException(file.name(), ex.getMessage(), ex);
            }
        }

        DeviceBuffer vector(String name, String formula, long length) {
            TensorData t = file.tensor(name);
            TensorShapes.expect(file.name(), name, t.dims(), formula, length);
            return backend.upload(t.toFloatArray());
        }

        Optional<DeviceBuffer> optionalVector(boolean present, String name, String formula, long length) {
            return present ? Optional.of(vector(name, formula, length)) : Optional.empty();
        }
    }
}
