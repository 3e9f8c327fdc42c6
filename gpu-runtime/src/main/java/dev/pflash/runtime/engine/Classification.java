package dev.pflash.runtime.engine;

import java.util.List;
import java.util.Objects;

/**
 * What the engine returns for one prompt scored against a set of labels: every label's score in
 * the order the labels were given, token counts (nothing is generated), stage timings up to the
 * prompt's logits ({@code ttftMs} is the time to the first label token's log-probability), the
 * milliseconds spent scoring the labels after that, the body spans PFlash kept, and why the body
 * was or was not compressed.
 */
public record Classification(String promptId, List<LabelScore> labels, TokenCounts tokens, StageTimings timings,
        double scoreMs, List<KeySpan> keySpans, CompressionDecision compression) {
    public Classification {
        Objects.requireNonNull(promptId, "promptId");
        labels = List.copyOf(labels);
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("a classification needs at least one label");
        }
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(timings, "timings");
        keySpans = List.copyOf(keySpans);
        Objects.requireNonNull(compression, "compression");
    }

    /** A classification by an engine that does not compress. */
    public Classification(String promptId, List<LabelScore> labels, TokenCounts tokens, StageTimings timings,
            double scoreMs, List<KeySpan> keySpans) {
        this(promptId, labels, tokens, timings, scoreMs, keySpans, CompressionDecision.off());
    }

    /** The most probable label; the first given among equals. */
    public LabelScore top() {
        LabelScore best = labels.get(0);
        for (LabelScore s : labels) {
            if (s.probability() > best.probability()) {
                best = s;
            }
        }
        return best;
    }

    /** Label tokens scored, over all labels. */
    public int labelTokens() {
        return labels.stream().mapToInt(s -> s.tokens().length).sum();
    }
}
