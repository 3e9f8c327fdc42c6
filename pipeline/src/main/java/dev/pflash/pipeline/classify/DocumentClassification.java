package dev.pflash.pipeline.classify;

import dev.pflash.pipeline.generate.EngineUsage;
import dev.pflash.pipeline.generate.ModelIdentity;
import dev.pflash.pipeline.prompt.DocumentMeta;
import java.io.Serializable;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * A classified document: its metadata, the token counts of its prompt, every label's score (in
 * the order of the labels file), what the engine spent on it ({@code usage.decodeMs()} is the
 * label scoring), the models that ran it, and the size of the batch it ran in.
 */
@DefaultCoder(SerializableCoder.class)
public record DocumentClassification(DocumentMeta meta, double tokenizeMs, int promptTokens, int prefixTokens,
        int bodyTokens, int suffixTokens, List<ScoredLabel> scores, int labelTokens, EngineUsage usage,
        ModelIdentity model, int batchSize) implements Serializable {
    public DocumentClassification {
        Objects.requireNonNull(meta, "meta");
        scores = List.copyOf(scores);
        if (scores.isEmpty()) {
            throw new IllegalArgumentException(meta.docId() + ": a classification needs label scores");
        }
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(model, "model");
    }

    /** The most probable label; the first in file order among equals. */
    public ScoredLabel top() {
        return scores.stream().max(Comparator.comparingDouble(ScoredLabel::probability)).orElseThrow();
    }
}
