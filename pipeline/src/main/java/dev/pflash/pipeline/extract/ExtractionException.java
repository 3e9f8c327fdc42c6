package dev.pflash.pipeline.extract;

/** A file from which no text could be extracted; the message names the file and the problem. */
public final class ExtractionException extends Exception {
    private static final int MAX_CAUSES = 3;
    /** Tika's wrapper around a parser's IOException; it names a parser object, the cause says what is wrong. */
    private static final String TIKA_IO_WRAPPER = "TIKA-198:";

    private final String uri;
    /** The class named by a parser process, whose exception stayed there; null for one raised here. */
    private final String reportedClass;

    /** A failure found by the extractor's own checks (an empty file, no text). */
    public ExtractionException(String uri, String problem) {
        super(uri + ": " + problem);
        this.uri = uri;
        this.reportedClass = null;
    }

    /** A failure reported by Tika, the JVM or the file system; the message ends with the causes'. */
    public ExtractionException(String uri, String problem, Throwable cause) {
        super(uri + ": " + problem + describe(cause), cause);
        this.uri = uri;
        this.reportedClass = null;
    }

    /**
     * A failure a parser process reported ({@link ParserProcess}): its whole message and the
     * class of the error behind it, without the exception objects, which stay in that process.
     */
    static ExtractionException reported(String uri, String message, String errorClass) {
        return new ExtractionException(uri, message, errorClass);
    }

    private ExtractionException(String uri, String message, String errorClass) {
        super(message);
        this.uri = uri;
        this.reportedClass = errorClass;
    }

    public String uri() {
        return uri;
    }

    /**
     * The class of the exception that describes the failure: the underlying one when there is one
     * (for example {@code org.apache.tika.exception.EncryptedDocumentException} or
     * {@code java.util.concurrent.TimeoutException}), else this class.
     */
    public String errorClass() {
        if (reportedClass != null) {
            return reportedClass;
        }
        return getCause() != null ? getCause().getClass().getName() : getClass().getName();
    }

    private static String describe(Throwable cause) {
        StringBuilder text = new StringBuilder();
        Throwable current = cause;
        for (int i = 0; i < MAX_CAUSES && current != null; i++) {
            String message = current.getMessage();
            if (message != null && !message.isBlank() && !message.startsWith(TIKA_IO_WRAPPER)
                    && text.indexOf(message) < 0) {
                text.append(text.length() == 0 ? " (" : "; ").append(message);
            }
            current = current.getCause() == current ? null : current.getCause();
        }
        return text.length() == 0 ? "" : text.append(')').toString();
    }
}
