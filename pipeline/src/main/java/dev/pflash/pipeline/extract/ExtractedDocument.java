package dev.pflash.pipeline.extract;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * The text and metadata of one input file.
 *
 * <p>Encoded in Beam with {@link SerializableCoder}: plain Java serialization handles a record with
 * nullable fields without any schema set-up; the output stage converts documents to Avro rows
 * itself.
 *
 * @param docId       {@link DocumentIds#forUri(String)} of {@code uri}
 * @param uri         where the file was read from, as Beam's {@code ResourceId} names it (an
 *                    absolute path for a local file, {@code gs://bucket/name} for a bucket)
 * @param sha256      lowercase hex SHA-256 of the file's bytes
 * @param contentType media type Tika detected, with parameters such as {@code charset} when Tika
 *                    reports them
 * @param title       from the document's own metadata (an e-mail's subject); null when absent
 * @param author      from the document's own metadata (an e-mail's sender); null when absent
 * @param language    as the document declares it (for example {@code en-GB}); null when it does
 *                    not; never guessed from the text
 * @param pageCount   pages, or slides for a presentation, as the file records them; null when the
 *                    format or the file does not say
 * @param sizeBytes   bytes read from the file
 * @param text        the extracted text, stripped of leading and trailing whitespace
 * @param chars       {@code text.length()}
 * @param truncated   true when the text was cut at {@link ExtractionLimits#maxChars()}
 * @param extractMs   wall-clock milliseconds spent reading, hashing and parsing the file
 */
@DefaultCoder(SerializableCoder.class)
public record ExtractedDocument(String docId, String uri, String sha256, String contentType, String title,
        String author, String language, Integer pageCount, long sizeBytes, String text, long chars,
        boolean truncated, double extractMs) implements Serializable {
    public ExtractedDocument {
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(text, "text");
    }
}
