package dev.pflash.pipeline.classify;

import dev.pflash.runtime.engine.LabelScore;
import java.io.Serializable;
import java.util.Objects;

/** One label's score for one document, as it travels to the results table. */
public record ScoredLabel(String label, double probability, double logLikelihood, int tokens) implements Serializable {
    public ScoredLabel {
        Objects.requireNonNull(label, "label");
    }

    public static ScoredLabel of(LabelScore score) {
        return new ScoredLabel(score.label(), score.probability(), score.logLikelihood(), score.tokens().length);
    }
}
