package dev.pflash.pipeline.prompt;

import dev.pflash.pipeline.extract.ExtractedDocument;
import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * What the output rows need to know about a source document once its text has become tokens:
 * identity, metadata from extraction, and how long extraction took.
 */
@DefaultCoder(SerializableCoder.class)
public record DocumentMeta(String docId, String uri, String sha256, String contentType, String title, String author,
        String language, Integer pageCount, long sizeBytes, long chars, boolean truncated, double extractMs)
        implements Serializable {
    public DocumentMeta {
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(contentType, "contentType");
    }

    /** Everything of an extracted document but its text. */
    public static DocumentMeta of(ExtractedDocument document) {
        return new DocumentMeta(document.docId(), document.uri(), document.sha256(), document.contentType(),
                document.title(), document.author(), document.language(), document.pageCount(),
                document.sizeBytes(), document.chars(), document.truncated(), document.extractMs());
    }
}
