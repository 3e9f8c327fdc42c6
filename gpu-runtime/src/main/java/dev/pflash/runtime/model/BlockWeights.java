package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;

/**
 * The weights of one decoder block: a token mixer of its {@link LayerKind} (attention in
 * {@link LayerWeights}, Gated DeltaNet in {@link DeltaNetWeights}) before the SwiGLU feed-forward
 * that every block has.
 */
public sealed interface BlockWeights permits LayerWeights, DeltaNetWeights {
    DeviceBuffer attentionNorm();

    /** The norm before the feed-forward ({@code ffn_norm}, qwen35's {@code post_attention_norm}). */
    DeviceBuffer ffnNorm();

    WeightMatrix ffnGate();

    WeightMatrix ffnUp();

    WeightMatrix ffnDown();

    /** Releases this block's backend memory. */
    void close();
}
