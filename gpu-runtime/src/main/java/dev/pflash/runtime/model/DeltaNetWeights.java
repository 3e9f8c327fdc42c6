package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;
import java.util.stream.Stream;

/**
 * The weights of a Gated DeltaNet block (QWEN35-HYBRID.md): the fused q/k/v projection, the z gate,
 * the per-head decay and beta projections, the convolution taps ({@code channels x kernel},
 * row-major), {@code ssmA} = -exp(A_log) and the dt bias per value head, the output norm shared by
 * heads, the output projection, and the feed-forward.
 */
public record DeltaNetWeights(
        DeviceBuffer attentionNorm,
        WeightMatrix qkv,
        WeightMatrix gate,
        WeightMatrix alpha,
        WeightMatrix beta,
        DeviceBuffer conv,
        DeviceBuffer ssmA,
        DeviceBuffer dtBias,
        DeviceBuffer ssmNorm,
        WeightMatrix ssmOut,
        DeviceBuffer ffnNorm,
        WeightMatrix ffnGate,
        WeightMatrix ffnUp,
        WeightMatrix ffnDown) implements BlockWeights {

    @Override
    public void close() {
        Stream.of(qkv, gate, alpha, beta, ssmOut, ffnGate, ffnUp, ffnDown).forEach(WeightMatrix::close);
        Stream.of(attentionNorm, conv, ssmA, dtBias, ssmNorm, ffnNorm).forEach(DeviceBuffer::close);
    }
}
