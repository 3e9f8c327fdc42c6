package dev.pflash.runtime.engine;

/**
 * Token counts of one prompt's run. {@code keptBody} equals {@code body} when nothing was
 * compressed; {@code prefixReused} counts prompt tokens whose KV this prompt did not compute: it
 * came from the prefix cache, or from its batch, which computes a shared prefix once (the first
 * prompt of the batch is charged with that), so that the prefilled tokens of a batch add up to
 * what the target computed.
 */
public record TokenCounts(int prompt, int prefix, int body, int suffix, int keptBody, int prefixReused,
        int generated) {
    /** Tokens the target actually prefilled (kept prompt tokens minus reused ones). */
    public int targetPrefilled() {
        return prefix + keptBody + suffix - prefixReused;
    }
}
