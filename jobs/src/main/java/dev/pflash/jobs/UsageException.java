package dev.pflash.jobs;

/** The user asked for something that cannot run (a bad option, a missing file); the message says what and why. */
final class UsageException extends RuntimeException {
    UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
