package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The weights of one attention block on a backend: norm vectors as float buffers, matrices in their
 * stored type. Biases exist for qwen2-style models, q/k norms for qwen3 and qwen35. In a qwen35
 * gated-attention block {@code query} gives each head's queries and output gate side by side.
 */
public record LayerWeights(
        DeviceBuffer attentionNorm,
        WeightMatrix query,
        WeightMatrix key,
        WeightMatrix value,
        Optional<DeviceBuffer> queryBias,
        Optional<DeviceBuffer> keyBias,
        Optional<DeviceBuffer> valueBias,
        Optional<DeviceBuffer> queryNorm,
        Optional<DeviceBuffer> keyNorm,
        WeightMatrix attentionOutput,
        DeviceBuffer ffnNorm,
        WeightMatrix ffnGate,
        WeightMatrix ffnUp,
        WeightMatrix ffnDown) implements BlockWeights {

    @Override
    public void close() {
        Stream.of(query, key, value, attentionOutput, ffnGate, ffnUp, ffnDown).forEach(WeightMatrix::close);
        Stream.of(Optional.of(attentionNorm), queryBias, keyBias, valueBias, queryNorm, keyNorm, Optional.of(ffnNorm))
                .flatMap(Optional::stream)
                .forEach(DeviceBuffer::close);
    }
}
