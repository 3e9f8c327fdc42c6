package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.EngineConfig;

/**
 * A worker could not load the engine's models. The message names the worker (host and JVM), the
 * model files and the cause, because on a cluster the worker's log is often all a user sees.
 */
public final class EngineLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EngineLoadException(EngineConfig config, RuntimeException cause) {
        super(WorkerName.current() + " cannot load the model " + config.model()
                + (config.drafter() == null ? "" : " (drafter " + config.drafter() + ")") + " on backend "
                + config.backend() + ": " + messageOf(cause), cause);
    }

    private static String messageOf(Throwable error) {
        String message = error.getMessage();
        return message == null ? error.getClass().getName() : message;
    }
}
