package dev.pflash.runtime.engine;

import java.io.Serializable;
import java.util.Locale;

/**
 * PFlash speculative-prefill settings (PFLASH.md): when to compress the body, how much to keep,
 * and the constants of scoring, selection and the drafter's block-sparse attention. Defaults
 * are the reference's published settings.
 *
 * @param mode              off, always, or auto (compress when it pays: by predicted cost, or from {@code threshold})
 * @param keepRatio         fraction of body chunks chosen by score: n_keep = max(1, floor(ceil(S / chunk) × ratio))
 * @param alpha             FlashPrefill block threshold: keep key blocks scoring at least alpha × the row max
 * @param threshold         body tokens from which {@code auto} compresses; {@link #BY_COST} to compare the predicted
 *                          time to first token with and without PFlash instead
 * @param tailQueries       last prompt tokens whose attention scores the body
 * @param poolKernel        width of the average-pool smoothing of token scores
 * @param chunkTokens       tokens per selection chunk
 * @param blockTokens       tokens per FlashPrefill attention block
 * @param sinkBlocks        first key blocks every query block attends
 * @param windowBlocks      key blocks before and including the diagonal every query block attends
 * @param denseLastBlocks   last query blocks that attend densely
 * @param headChunks        first body chunks always kept, beside those chosen by score (0 switches forcing off)
 * @param tailChunks        last body chunks always kept, beside those chosen by score (0 switches forcing off)
 * @param lexicalAnchors    keep ±2 chunks around 4-grams of the prompt's tail repeated in the body
 * @param scoreBeforeRope   score with q/k taken before RoPE (the reference's NIAH fix)
 * @param originalPositions prefill kept tokens at their original positions instead of contiguous ones
 */
public record CompressionSettings(Mode mode, double keepRatio, double alpha, int threshold, int tailQueries,
        int poolKernel, int chunkTokens, int blockTokens, int sinkBlocks, int windowBlocks, int denseLastBlocks,
        int headChunks, int tailChunks, boolean lexicalAnchors, boolean scoreBeforeRope, boolean originalPositions)
        implements Serializable {

    /** The threshold that makes {@code auto} choose by predicted cost ({@link CompressionCost}). */
    public static final int BY_COST = -1;

    public enum Mode {
        OFF, AUTO, ALWAYS;

        public static Mode parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prefill compression must be off, auto or always, got '" + s + "'");
            }
        }
    }

    public CompressionSettings {
        if (!(keepRatio > 0 && keepRatio <= 1)) {
            throw new IllegalArgumentException("keep ratio must be in (0, 1], got " + keepRatio);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        if ((threshold < 0 && threshold != BY_COST) || tailQueries < 1 || poolKernel < 1 || poolKernel % 2 == 0 || chunkTokens < 1
                || blockTokens < 1 || sinkBlocks < 0 || windowBlocks < 1 || denseLastBlocks < 0 || headChunks < 0
                || tailChunks < 0) {
            throw new IllegalArgumentException("compression constants out of range (tail queries, chunk and block"
                    + " tokens and the window must be >= 1, the pool kernel odd, counts >= 0): " + this);
        }
    }

    /**
     * The reference's settings (keep 5%, alpha 0.85), with {@code auto} by predicted cost rather than
     * its fixed 32,000 tokens, which fits one GPU and one model pair only.
     */
    public static CompressionSettings defaults() {
        return new CompressionSettings(Mode.AUTO, 0.05, 0.85, BY_COST, 8, 13, 32, 128, 2, 4, 2, 8, 24, true, true, false);
    }

    public static CompressionSettings off() {
        return defaults().withMode(Mode.OFF);
    }

    public CompressionSettings withMode(Mode m) {
        return new CompressionSettings(m, keepRatio, alpha, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, scoreBeforeRope,
                originalPositions);
    }

    public CompressionSettings withKeepRatio(double r) {
        return new CompressionSettings(mode, r, alpha, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, scoreBeforeRope,
                originalPositions);
    }

    public CompressionSettings withAlpha(double a) {
        return new CompressionSettings(mode, keepRatio, a, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, scoreBeforeRope,
                originalPositions);
    }

    public CompressionSettings withThreshold(int t) {
        return new CompressionSettings(mode, keepRatio, alpha, t, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, scoreBeforeRope,
                originalPositions);
    }

    public CompressionSettings withBlockTokens(int b) {
        return new CompressionSettings(mode, keepRatio, alpha, threshold, tailQueries, poolKernel, chunkTokens, b,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, scoreBeforeRope,
                originalPositions);
    }

    /** Forced head and tail chunks; 0 and 0 switch forcing off. */
    public CompressionSettings withForcedChunks(int head, int tail) {
        return new CompressionSettings(mode, keepRatio, alpha, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, head, tail, lexicalAnchors, scoreBeforeRope,
                originalPositions);
    }

    public CompressionSettings withLexicalAnchors(boolean on) {
        return new CompressionSettings(mode, keepRatio, alpha, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, on, scoreBeforeRope,
                originalPositions);
    }

    public CompressionSettings withScoreBeforeRope(boolean on) {
        return new CompressionSettings(mode, keepRatio, alpha, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, on,
                originalPositions);
    }

    public CompressionSettings withOriginalPositions(boolean on) {
        return new CompressionSettings(mode, keepRatio, alpha, threshold, tailQueries, poolKernel, chunkTokens, blockTokens,
                sinkBlocks, windowBlocks, denseLastBlocks, headChunks, tailChunks, lexicalAnchors, scoreBeforeRope, on);
    }

    /** Whether {@code auto} decides by predicted cost rather than by a threshold. */
    public boolean byCost() {
        return mode == Mode.AUTO && threshold == BY_COST;
    }

    /**
     * Whether a body of {@code bodyTokens} tokens is compressed under these settings, when they do
     * not decide by cost.
     *
     * @throws IllegalStateException when {@link #byCost()}: then only a {@link CompressionCost} can say
     */
    public boolean compresses(int bodyTokens) {
        return switch (mode) {
            case OFF -> false;
            case ALWAYS -> bodyTokens > 0;
            case AUTO -> {
                if (byCost()) {
                    throw new IllegalStateException("auto by cost: the engine's CompressionCost decides");
                }
                yield bodyTokens >= threshold;
            }
        };
    }
}
