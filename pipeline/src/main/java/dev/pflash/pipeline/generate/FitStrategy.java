package dev.pflash.pipeline.generate;

/** How a document's prompt was made to fit the target's context window. */
public enum FitStrategy {
    /** The whole prompt fit. */
    NONE,
    /** PFlash compressed the body until the prompt fit (the keep ratio was lowered as needed). */
    COMPRESS,
    /** The body was split into windows summarized separately, then their summaries together. */
    SPLIT;

    /** The value of the {@code fit_strategy} column. */
    public String columnValue() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
