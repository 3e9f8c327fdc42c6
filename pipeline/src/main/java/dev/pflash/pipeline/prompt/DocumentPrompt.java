package dev.pflash.pipeline.prompt;

import dev.pflash.runtime.engine.Prompt;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * A document's tokenized prompt on its way to the engine: the document's metadata, the target's
 * token ids of each segment (chat framing included), and how long building it took.
 */
@DefaultCoder(SerializableCoder.class)
public record DocumentPrompt(DocumentMeta meta, int[] prefixTokens, int[] bodyTokens, int[] suffixTokens,
        double tokenizeMs) implements Serializable {
    public DocumentPrompt {
        Objects.requireNonNull(meta, "meta");
        prefixTokens = prefixTokens.clone();
        bodyTokens = bodyTokens.clone();
        suffixTokens = suffixTokens.clone();
    }

    public static DocumentPrompt of(DocumentMeta meta, Prompt prompt, double tokenizeMs) {
        return new DocumentPrompt(meta, prompt.prefixTokens(), prompt.bodyTokens(), prompt.suffixTokens(),
                tokenizeMs);
    }

    public int length() {
        return prefixTokens.length + bodyTokens.length + suffixTokens.length;
    }

    public int prefixLength() {
        return prefixTokens.length;
    }

    public int bodyLength() {
        return bodyTokens.length;
    }

    public int suffixLength() {
        return suffixTokens.length;
    }

    /** The engine's view of this prompt, keyed by document id. */
    public Prompt toPrompt() {
        return new Prompt(meta.docId(), prefixTokens, bodyTokens, suffixTokens);
    }

    @Override
    public int[] prefixTokens() {
        return prefixTokens.clone();
    }

    @Override
    public int[] bodyTokens() {
        return bodyTokens.clone();
    }

    @Override
    public int[] suffixTokens() {
        return suffixTokens.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DocumentPrompt other
                && meta.equals(other.meta)
                && Arrays.equals(prefixTokens, other.prefixTokens)
                && Arrays.equals(bodyTokens, other.bodyTokens)
                && Arrays.equals(suffixTokens, other.suffixTokens)
                && Double.compare(tokenizeMs, other.tokenizeMs) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(meta, Arrays.hashCode(prefixTokens), Arrays.hashCode(bodyTokens),
                Arrays.hashCode(suffixTokens), tokenizeMs);
    }

    @Override
    public String toString() {
        return "DocumentPrompt[" + meta.docId() + ", " + prefixTokens.length + "+" + bodyTokens.length + "+"
                + suffixTokens.length + " tokens]";
    }
}
