package dev.pflash.runtime.cache;

/**
 * A prefix cache's counters since it was made: lookups and the prefix tokens they asked for,
 * tokens restored from cached blocks, blocks stored and evicted; and what it holds now.
 */
public record PrefixCacheStats(long lookups, long lookupTokens, long hitTokens, long storedBlocks,
        long evictedBlocks, int blocks, long bytes, long budgetBytes) {
    /** Share of looked-up prefix tokens that came from the cache; 0 before any lookup. */
    public double hitRate() {
        return lookupTokens == 0 ? 0 : (double) hitTokens / lookupTokens;
    }
}
