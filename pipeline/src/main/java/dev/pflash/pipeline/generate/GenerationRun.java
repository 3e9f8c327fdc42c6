package dev.pflash.pipeline.generate;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * The outcome of summarizing one document: the summary and its token ids, why its decoding
 * stopped, its tokens, how the prompt was fitted and what the engine spent on it.
 */
public record GenerationRun(String summary, int[] summaryTokenIds, String finishReason, int summaryTokens,
        FitStrategy fitStrategy, int windows, EngineUsage usage) implements Serializable {
    public GenerationRun {
        Objects.requireNonNull(summary, "summary");
        summaryTokenIds = summaryTokenIds.clone();
        Objects.requireNonNull(finishReason, "finishReason");
        Objects.requireNonNull(fitStrategy, "fitStrategy");
        Objects.requireNonNull(usage, "usage");
    }

    /** A run whose summary's token ids are not known. */
    public GenerationRun(String summary, String finishReason, int summaryTokens, FitStrategy fitStrategy, int windows,
            EngineUsage usage) {
        this(summary, new int[0], finishReason, summaryTokens, fitStrategy, windows, usage);
    }

    @Override
    public int[] summaryTokenIds() {
        return summaryTokenIds.clone();
    }

    /** By value, token ids included: runners compare elements by their encodings and by equals. */
    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationRun r && summary.equals(r.summary)
                && Arrays.equals(summaryTokenIds, r.summaryTokenIds) && finishReason.equals(r.finishReason)
                && summaryTokens == r.summaryTokens && fitStrategy == r.fitStrategy && windows == r.windows
                && usage.equals(r.usage);
    }

    @Override
    public int hashCode() {
        return Objects.hash(summary, Arrays.hashCode(summaryTokenIds), finishReason, summaryTokens, fitStrategy,
                windows, usage);
    }

    @Override
    public String toString() {
        return "GenerationRun[summary=" + summary + ", summaryTokenIds=" + Arrays.toString(summaryTokenIds)
                + ", finishReason=" + finishReason + ", summaryTokens=" + summaryTokens + ", fitStrategy="
                + fitStrategy + ", windows=" + windows + ", usage=" + usage + "]";
    }
}
