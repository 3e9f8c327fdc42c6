package dev.pflash.pipeline.output;

import dev.pflash.pipeline.extract.ExtractionError;
import dev.pflash.schemas.DocumentError;

/** Builds rows of the errors table. */
public final class ErrorRows {
    private static final int MAX_CAUSES = 3;

    private ErrorRows() {
    }

    /**
     * A row for a document that failed at {@code stage} with {@code error}; {@code docId} and
     * {@code sha256} (of the file's bytes) may be null.
     */
    public static DocumentError of(String runId, String docId, String uri, String sha256, String stage,
            Throwable error) {
        DocumentError row = of(runId, docId, uri, stage, error.getClass().getName(), describe(error),
                System.currentTimeMillis());
        row.setSha256(sha256);
        return row;
    }

    /** The row of a file that extraction could not turn into a document. */
    public static DocumentError fromExtraction(String runId, ExtractionError error) {
        DocumentError row = of(runId, error.docId(), error.uri(), error.stage(), error.errorClass(), error.message(),
                error.timeMillis());
        row.setSha256(error.sha256());
        return row;
    }

    public static DocumentError of(String runId, String docId, String uri, String stage, String errorClass,
            String message, long timeEpochMs) {
        return DocumentError.newBuilder()
                .setRunId(runId)
                .setDocId(docId)
                .setUri(uri)
                .setStage(stage)
                .setErrorClass(errorClass)
                .setMessage(message)
                .setTimeEpochMs(timeEpochMs)
                .build();
    }

    /** The error's message followed by those of its causes that add something. */
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(messageOf(error));
        Throwable cause = error.getCause();
        for (int i = 0; i < MAX_CAUSES && cause != null && cause != error; i++) {
            String causeMessage = messageOf(cause);
            if (text.indexOf(causeMessage) < 0) {
                text.append("; caused by ").append(cause.getClass().getSimpleName()).append(": ").append(causeMessage);
            }
            error = cause;
            cause = cause.getCause();
        }
        return text.toString();
    }

    private static String messageOf(Throwable error) {
        String message = error.getMessage();
        return message == null || message.isBlank() ? error.getClass().getSimpleName() : message;
    }
}
