package dev.pflash.runtime.backend;

/** Which elements of a head RoPE rotates together (GGUF-QWEN3.md section 4). */
public enum RopeStyle {
    /** Pairs (x[i], x[i + dims/2]): HF rotate_half; qwen2 and qwen3. */
    NEOX,
    /** Adjacent pairs (x[2i], x[2i+1]): llama, whose converter permuted Wq and Wk rows to match. */
    ADJACENT_PAIRS
}
