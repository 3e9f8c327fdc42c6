package dev.pflash.pipeline.prompt;

import dev.pflash.runtime.engine.PromptText;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A prompt template: the text before the {@value #DOCUMENT} placeholder is the prefix (shared by
 * every prompt, so its KV can be cached), the placeholder is where the document text goes (the
 * body), and the text after it is the suffix (the instruction tail the model answers).
 */
public record PromptTemplate(String prefix, String suffix) implements Serializable {
    public static final String DOCUMENT = "{{document}}";

    private static final String DEFAULT_PREFIX = """
            Summarize the document below. Keep the names, numbers and conclusions that matter; \
            do not add anything that is not in the document.

            <document>
            """;
    private static final String DEFAULT_SUFFIX = """

            </document>

            Write a concise summary of the document above in at most five sentences.""";

    public PromptTemplate {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(suffix, "suffix");
    }

    /** The built-in template: asks for a concise summary. */
    public static PromptTemplate defaultSummary() {
        return new PromptTemplate(DEFAULT_PREFIX, DEFAULT_SUFFIX);
    }

    /** Reads a UTF-8 template file; see {@link #parse}. */
    public static PromptTemplate load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the prompt template: " + e.getMessage(), e);
        }
        return parse(file.toString(), text);
    }

    /**
     * Splits template text at its single {@value #DOCUMENT} placeholder; {@code source} names the
     * template in error messages.
     */
    public static PromptTemplate parse(String source, String text) {
        int at = text.indexOf(DOCUMENT);
        if (at < 0) {
            throw new IllegalArgumentException(source + ": the prompt template has no " + DOCUMENT
                    + " placeholder; write the instructions, then " + DOCUMENT
                    + " where the document text goes, then the question");
        }
        if (text.indexOf(DOCUMENT, at + DOCUMENT.length()) >= 0) {
            throw new IllegalArgumentException(source + ": the prompt template has more than one " + DOCUMENT
                    + " placeholder; it must appear exactly once");
        }
        return new PromptTemplate(text.substring(0, at), text.substring(at + DOCUMENT.length()));
    }

    /** The prompt for one document (or for the joined summaries of a long document's windows). */
    public PromptText fill(String body) {
        return new PromptText(prefix, body, suffix);
    }
}
