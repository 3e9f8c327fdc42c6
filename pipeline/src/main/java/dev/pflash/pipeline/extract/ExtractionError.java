package dev.pflash.pipeline.extract;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * A file that yielded no document; the dead-letter record of {@link ExtractText}.
 *
 * @param docId      {@link DocumentIds#forUri(String)} of {@code uri}
 * @param uri        the file
 * @param stage      always {@link #STAGE}
 * @param errorClass the exception class that describes the failure (see
 *                   {@link ExtractionException#errorClass()})
 * @param message    names the file and the problem
 * @param timeMillis when the failure was recorded, in milliseconds since the epoch
 * @param sha256     SHA-256 of the file's bytes, lower-case hex; null when they could not be read
 */
@DefaultCoder(SerializableCoder.class)
public record ExtractionError(String docId, String uri, String stage, String errorClass, String message,
        long timeMillis, String sha256) implements Serializable {
    public static final String STAGE = "extract";

    public ExtractionError {
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(errorClass, "errorClass");
        Objects.requireNonNull(message, "message");
    }

    /** The error of a file whose bytes hash to {@code sha256} (null when unreadable). */
    public static ExtractionError of(ExtractionException failure, String sha256) {
        return new ExtractionError(DocumentIds.forUri(failure.uri()), failure.uri(), STAGE, failure.errorClass(),
                failure.getMessage(), System.currentTimeMillis(), sha256);
    }
}
