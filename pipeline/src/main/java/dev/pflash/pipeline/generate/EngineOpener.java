package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import java.io.Serializable;
import java.time.Duration;

/**
 * How a worker opens the engine for a config. It travels with the transforms, so it must be
 * serializable; the pipeline's default is the runtime's own loader.
 */
@FunctionalInterface
public interface EngineOpener extends Serializable {
    Engine open(EngineConfig config);

    /**
     * How long {@link EngineHolder} keeps an engine this opener opened after its last lease
     * closes. Runners such as Spark set up and tear down DoFn instances for every task; a grace
     * period lets the next task reuse the loaded model instead of loading it again. Zero closes
     * the engine with its last lease.
     */
    default Duration keepAlive() {
        return Duration.ZERO;
    }
}
