package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.DeltaNetShape;

/**
 * The layer mix of a qwen35 model: layer {@code i} is gated attention iff
 * {@code (i + 1) % fullAttentionInterval == 0}, else Gated DeltaNet with {@code deltaNet} heads
 * and a causal convolution of {@code convKernel} taps. {@code skippedLayers} trailing
 * multi-token-prediction blocks in the file are not part of the forward pass.
 */
public record HybridLayout(int fullAttentionInterval, int convKernel, DeltaNetShape deltaNet, int skippedLayers) {
    public HybridLayout {
        if (fullAttentionInterval < 1 || convKernel < 1 || skippedLayers < 0) {
            throw new IllegalArgumentException("full attention interval " + fullAttentionInterval + " and conv kernel "
                    + convKernel + " must be >= 1, skipped layers " + skippedLayers + " >= 0");
        }
    }

    public LayerKind kind(int layer) {
        return (layer + 1) % fullAttentionInterval == 0 ? LayerKind.GATED_ATTENTION : LayerKind.DELTA_NET;
    }

    /** Floats of one DeltaNet layer's convolution state: the last {@code convKernel - 1} input rows. */
    public int convStateSize() {
        return (convKernel - 1) * deltaNet.channels();
    }
}
