package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Opens the engine on a worker of any runner: models given as URIs are first copied to this
 * host's model cache ({@link ModelFetcher}), then the engine opens the local copies; the engine
 * stays loaded for {@code keepAlive} after its last user, so that runners that set up DoFns per
 * task reuse it.
 */
public final class WorkerEngineOpener implements EngineOpener {
    private static final long serialVersionUID = 1L;

    private final EngineOpener delegate;
    private final String cacheDir;
    private final Duration keepAlive;

    /**
     * @param delegate  opens the engine once the models are local
     * @param cacheDir  where remote models are copied, resolved on the worker; empty for
     *                  {@code <java.io.tmpdir>/pflash-models} of the worker
     * @param keepAlive how long the engine outlives its last lease
     */
    public WorkerEngineOpener(EngineOpener delegate, String cacheDir, Duration keepAlive) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.cacheDir = Objects.requireNonNull(cacheDir, "cacheDir");
        this.keepAlive = Objects.requireNonNull(keepAlive, "keepAlive");
        if (keepAlive.isNegative()) {
            throw new IllegalArgumentException("engine keep-alive must be 0 or more, got " + keepAlive);
        }
    }

    @Override
    public Engine open(EngineConfig config) {
        ModelFetcher fetcher = new ModelFetcher(cacheDirectory());
        String model = fetcher.localSpec(config.model());
        String drafter = fetcher.localSpec(config.drafter());
        if (model.equals(config.model()) && Objects.equals(drafter, config.drafter())) {
            return delegate.open(config);
        }
        return delegate.open(new EngineConfig(model, drafter, config.backend(), config.threads(),
                config.systemPrompt(), config.compression(), config.prefixCacheBytes(), config.kvCacheType()));
    }

    @Override
    public Duration keepAlive() {
        return keepAlive;
    }

    /** The model cache of this worker. */
    public Path cacheDirectory() {
        return cacheDir.isBlank() ? Path.of(System.getProperty("java.io.tmpdir"), "pflash-models") : Path.of(cacheDir);
    }
}
