package dev.pflash.runtime.pflash;

import dev.pflash.runtime.engine.BodySelection;

/**
 * The outcome of one speculative-prefill step: the body tokens the target will prefill (with the
 * kept spans, their scores and the draft and select times), what the drafter pass cost, and the
 * keep ratio finally used, which is lower than the one asked for when the selection had to shrink
 * to fit the target's context.
 *
 * @param keptChunks   body chunks kept, forced ones included
 * @param chunks       body chunks in all (in the drafter's tokens)
 * @param keepRatio    the keep ratio the score-chosen chunks follow
 * @param forcedKept   whether the forced chunks (head, tail, anchors) are in the selection
 */
public record CompressionResult(BodySelection selection, DraftStats draft, int keptChunks, int chunks,
        double keepRatio, boolean forcedKept) {
}
