package dev.pflash.runtime.engine;

/**
 * Token counts of one prompt's run. {@code keptBody} equals {@code body} when nothing was
 * compressed; {@code prefixReused} counts prompt tokens whose KV came from the prefix cache.
 */
public record TokenCounts(int prompt, int prefix, int body, int suffix, int keptBody, int prefixReused,
        int generated) {
    /** Tokens the target actually prefilled (kept prompt tokens minus reused ones). */
    public int targetPrefilled() {
        return prefix + keptBody + suffix - prefixReused;
    }
}
