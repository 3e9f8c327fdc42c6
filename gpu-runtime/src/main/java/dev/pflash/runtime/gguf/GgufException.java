package dev.pflash.runtime.gguf;

/**
 * The one error for a model file that cannot be used: malformed, truncated, of an unsupported
 * version or type, or missing a required key or tensor. The message always starts with the file
 * (or synthetic model) name so that a user with many files knows which one is bad.
 */
public final class GgufException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GgufException(String source, String problem) {
        super(source + ": " + problem);
    }

    public GgufException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}
