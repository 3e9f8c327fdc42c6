package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine per JVM and config, shared by every DoFn instance: loading a model costs seconds to
 * minutes and its weights fill the device, so the instances a runner creates per thread must not
 * each load their own. Users take a {@link Lease} (in {@code @Setup}) and close it (in
 * {@code @Teardown}); the engine closes when the last lease on it closes.
 */
public final class EngineHolder {
    private static final Logger LOG = LoggerFactory.getLogger(EngineHolder.class);
    private static final Map<EngineConfig, Shared> OPEN = new HashMap<>();

    private EngineHolder() {
    }

    /**
     * Leases the engine for {@code config}, opening it with {@code opener} if no lease on it is
     * open. Opening runs under the holder's lock so that concurrent setups load the model once.
     */
    public static synchronized Lease acquire(EngineConfig config, EngineOpener opener) {
        Shared shared = OPEN.get(config);
        if (shared == null) {
            long start = System.nanoTime();
            Engine engine = opener.open(config);
            shared = new Shared(engine);
            OPEN.put(config, shared);
            LOG.info("Opened engine {} ({} backend) in {} ms", engine.info().targetModel(), engine.info().backend(),
                    (System.nanoTime() - start) / 1_000_000);
        }
        shared.users++;
        return new Lease(config, shared.engine);
    }

    /** Open leases on the engine for {@code config}; 0 when it is closed. */
    public static synchronized int users(EngineConfig config) {
        Shared shared = OPEN.get(config);
        return shared == null ? 0 : shared.users;
    }

    private static synchronized void release(EngineConfig config) {
        Shared shared = OPEN.get(config);
        if (shared == null) {
            throw new IllegalStateException("no engine is open for " + config);
        }
        shared.users--;
        if (shared.users == 0) {
            OPEN.remove(config);
            try {
                shared.engine.close();
                LOG.info("Closed engine {}", config.model());
            } catch (RuntimeException e) {
                LOG.warn("Closing engine {} failed: {}", config.model(), e.toString());
            }
        }
    }

    private static final class Shared {
        final Engine engine;
        int users;

        Shared(Engine engine) {
            this.engine = engine;
        }
    }

    /** A user's hold on a shared engine; closing it twice releases once. */
    public static final class Lease implements AutoCloseable {
        private final EngineConfig config;
        private final Engine engine;
        private boolean closed;

        private Lease(EngineConfig config, Engine engine) {
            this.config = config;
            this.engine = engine;
        }

        public Engine engine() {
            if (closed) {
                throw new IllegalStateException("this engine lease was closed");
            }
            return engine;
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                release(config);
            }
        }
    }
}
