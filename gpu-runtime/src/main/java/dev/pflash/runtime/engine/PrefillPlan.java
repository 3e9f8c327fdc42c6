package dev.pflash.runtime.engine;

/**
 * What the target prefills for one prompt: its prefix, the body tokens the selection keeps (all
 * of them without compression) and its suffix, with each token's RoPE position, and why the body
 * was or was not compressed.
 */
record PrefillPlan(Prompt prompt, BodySelection selection, CompressionDecision decision, int[] sequence,
        int[] positions) {
    /** The RoPE position of the token that follows the prompt. */
    int nextPosition() {
        return positions[positions.length - 1] + 1;
    }
}
