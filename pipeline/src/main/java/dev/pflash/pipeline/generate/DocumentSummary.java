package dev.pflash.pipeline.generate;

import dev.pflash.pipeline.prompt.DocumentMeta;
import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * A summarized document: its metadata, the token counts of its prompt, the run that produced the
 * summary, the models that ran it, and the size of the batch it ran in.
 */
@DefaultCoder(SerializableCoder.class)
public record DocumentSummary(DocumentMeta meta, double tokenizeMs, int promptTokens, int prefixTokens,
        int bodyTokens, int suffixTokens, GenerationRun run, ModelIdentity model, int batchSize)
        implements Serializable {
    public DocumentSummary {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(run, "run");
        Objects.requireNonNull(model, "model");
    }
}
