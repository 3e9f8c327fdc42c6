package dev.pflash.runtime.engine;

import dev.pflash.runtime.pflash.ChunkSelector;

/**
 * PFlash {@code auto} by cost: a body is compressed when the predicted time to first token with
 * PFlash (the drafter's pass over the whole prompt, which scores as it goes, plus the target's
 * prefill of the kept body and the suffix) is below the predicted time without it (the target's
 * prefill of the whole body and the suffix). The prefix costs the same either way and is left out.
 * Both predictions come from {@link ForwardCost}s the engine measured on its backend. The kept
 * body is estimated as the selection makes it: the chunks the keep ratio allows plus the forced
 * head and tail chunks (lexical anchors, a few chunks at most, are not foreseen). Selection
 * itself (smoothing and ranking chunk scores) costs microseconds per chunk and is left out.
 */
public final class CompressionCost {
    private final ForwardCost target;
    private final ForwardCost drafter;
    private final CompressionSettings settings;

    public CompressionCost(ForwardCost target, ForwardCost drafter, CompressionSettings settings) {
        this.target = target;
        this.drafter = drafter;
        this.settings = settings;
    }

    public ForwardCost target() {
        return target;
    }

    public ForwardCost drafter() {
        return drafter;
    }

    /** Body tokens the target would prefill after PFlash selection of a body of {@code body} tokens. */
    public int keptEstimate(int body) {
        int chunk = settings.chunkTokens();
        int chunks = ChunkSelector.chunkCount(body, chunk);
        long keptChunks = (long) ChunkSelector.keepCount(body, chunk, settings.keepRatio()) + settings.headChunks()
                + settings.tailChunks();
        return keptChunks >= chunks ? body : (int) Math.min(body, keptChunks * chunk);
    }

    /** Predicted target prefill of the body and suffix after a prefix of {@code prefix} tokens. */
    public double denseMs(int prefix, int body, int suffix) {
        return target.predictMs(prefix, body + suffix);
    }

    /** Predicted drafter pass over the whole prompt plus target prefill of the kept body and the suffix. */
    public double pflashMs(int prefix, int body, int suffix) {
        return drafter.predictMs(0, prefix + body + suffix) + target.predictMs(prefix, keptEstimate(body) + suffix);
    }

    /** Compress when PFlash is predicted faster; a body the selection would keep whole is never compressed. */
    public CompressionDecision decide(int prefix, int body, int suffix) {
        double dense = denseMs(prefix, body, suffix);
        double pflash = pflashMs(prefix, body, suffix);
        boolean compress = keptEstimate(body) < body && pflash < dense;
        return new CompressionDecision(CompressionDecision.Reason.COST, compress, dense, pflash);
    }

    /**
     * The shortest body, in whole chunks up to {@code maxBody} tokens, from which PFlash is predicted
     * faster for prompts with this prefix and suffix; -1 when it never is.
     */
    public int crossover(int prefix, int suffix, int maxBody) {
        for (int body = settings.chunkTokens(); body <= maxBody; body += settings.chunkTokens()) {
            if (decide(prefix, body, suffix).compressed()) {
                return body;
            }
        }
        return -1;
    }
}
