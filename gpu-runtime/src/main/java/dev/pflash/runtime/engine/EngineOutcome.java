package dev.pflash.runtime.engine;

import java.util.Objects;

/**
 * One prompt's outcome in a batch: a result, or the error that stopped that prompt alone (the
 * rest of the batch goes on).
 */
public record EngineOutcome(String promptId, EngineResult result, RuntimeException error) {
    public EngineOutcome {
        Objects.requireNonNull(promptId, "promptId");
        if ((result == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of result and error must be set");
        }
    }

    public static EngineOutcome ok(EngineResult result) {
        return new EngineOutcome(result.promptId(), result, null);
    }

    public static EngineOutcome failed(String promptId, RuntimeException error) {
        return new EngineOutcome(promptId, null, error);
    }

    public boolean isOk() {
        return result != null;
    }
}
