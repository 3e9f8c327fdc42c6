package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import java.io.Serializable;

/**
 * How a worker opens the engine for a config. It travels with the transforms, so it must be
 * serializable; the pipeline's default is the runtime's own loader.
 */
@FunctionalInterface
public interface EngineOpener extends Serializable {
    Engine open(EngineConfig config);
}
