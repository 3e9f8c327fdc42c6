package dev.pflash.runtime.engine;

import java.util.Objects;

/**
 * One prompt's outcome in a classification batch: its label scores, or the error that stopped
 * that prompt alone (the rest of the batch goes on).
 */
public record ClassificationOutcome(String promptId, Classification result, RuntimeException error) {
    public ClassificationOutcome {
        Objects.requireNonNull(promptId, "promptId");
        if ((result == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of result and error must be set");
        }
    }

    public static ClassificationOutcome ok(Classification result) {
        return new ClassificationOutcome(result.promptId(), result, null);
    }

    public static ClassificationOutcome failed(String promptId, RuntimeException error) {
        return new ClassificationOutcome(promptId, null, error);
    }

    public boolean isOk() {
        return result != null;
    }
}
