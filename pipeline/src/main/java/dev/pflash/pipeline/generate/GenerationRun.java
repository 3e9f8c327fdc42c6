package dev.pflash.pipeline.generate;

import java.io.Serializable;
import java.util.Objects;

/**
 * The outcome of summarizing one document: the summary, why its decoding stopped, its tokens,
 * how the prompt was fitted and what the engine spent on it.
 */
public record GenerationRun(String summary, String finishReason, int summaryTokens, FitStrategy fitStrategy,
        int windows, EngineUsage usage) implements Serializable {
    public GenerationRun {
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(finishReason, "finishReason");
        Objects.requireNonNull(fitStrategy, "fitStrategy");
        Objects.requireNonNull(usage, "usage");
    }
}
