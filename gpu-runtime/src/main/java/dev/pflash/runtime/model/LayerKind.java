package dev.pflash.runtime.model;

/** What mixes tokens in one decoder block; each kind has its own per-sequence state. */
public enum LayerKind {
    /** Softmax attention over a KV cache (qwen3, llama, qwen2). */
    ATTENTION,
    /** qwen35's softmax attention: q packed with a sigmoid output gate, partial rotary; a KV cache. */
    GATED_ATTENTION,
    /** qwen35's Gated DeltaNet: a fixed-size recurrent state and a convolution state, no KV cache. */
    DELTA_NET;

    /** Whether the layer keeps key and value rows per token. */
    public boolean hasKvCache() {
        return this != DELTA_NET;
    }
}
