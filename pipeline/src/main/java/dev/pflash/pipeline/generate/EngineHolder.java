package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine per JVM and config, shared by every DoFn instance: loading a model costs seconds to
 * minutes and its weights fill the device, so the instances a runner creates per thread, slot or
 * task must not each load their own. Users take a {@link Lease} (in {@code @Setup}) and close it
 * (in {@code @Teardown}); the engine closes when the last lease on it closes, or, when its opener
 * asks for a {@linkplain EngineOpener#keepAlive() keep-alive}, once no lease has been taken for
 * that long. The engine itself serializes or batches the calls of concurrent users.
 */
public final class EngineHolder {
    private static final Logger LOG = LoggerFactory.getLogger(EngineHolder.class);
    private static final Map<EngineConfig, Shared> OPEN = new HashMap<>();
    private static final Map<EngineConfig, Integer> OPENED = new HashMap<>();
    private static final ScheduledExecutorService CLOSER = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "pflash-engine-keep-alive");
        thread.setDaemon(true);
        return thread;
    });

    private EngineHolder() {
    }

    /**
     * Leases the engine for {@code config}, opening it with {@code opener} if none is open.
     * Opening runs under the holder's lock so that concurrent setups load the model once.
     *
     * @throws EngineLoadException naming this worker and the model files when the models cannot be loaded
     */
    public static synchronized Lease acquire(EngineConfig config, EngineOpener opener) {
        Shared shared = OPEN.get(config);
        if (shared == null) {
            long start = System.nanoTime();
            Engine engine;
            try {
                engine = opener.open(config);
            } catch (EngineLoadException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new EngineLoadException(config, e);
            }
            shared = new Shared(engine, opener.keepAlive());
            OPEN.put(config, shared);
            OPENED.merge(config, 1, Integer::sum);
            LOG.info("Opened engine {} ({} backend) in {} ms on {}", engine.info().targetModel(),
                    engine.info().backend(), (System.nanoTime() - start) / 1_000_000, WorkerName.current());
        } else if (shared.pendingClose != null) {
            shared.pendingClose.cancel(false);
            shared.pendingClose = null;
        }
        shared.users++;
        return new Lease(config, shared.engine);
    }

    /** Open leases on the engine for {@code config}; 0 when it is closed or kept alive unused. */
    public static synchronized int users(EngineConfig config) {
        Shared shared = OPEN.get(config);
        return shared == null ? 0 : shared.users;
    }

    /** Whether an engine for {@code config} is loaded in this JVM (in use or kept alive). */
    public static synchronized boolean isOpen(EngineConfig config) {
        return OPEN.containsKey(config);
    }

    /** How many times this JVM has loaded an engine for {@code config}. */
    public static synchronized int timesOpened(EngineConfig config) {
        return OPENED.getOrDefault(config, 0);
    }

    private static synchronized void release(EngineConfig config) {
        Shared shared = OPEN.get(config);
        if (shared == null) {
            throw new IllegalStateException("no engine is open for " + config);
        }
        shared.users--;
        if (shared.users > 0) {
            return;
        }
        if (shared.keepAlive.isZero() || shared.keepAlive.isNegative()) {
            close(config, shared);
        } else {
            shared.pendingClose = CLOSER.schedule(() -> closeIfUnused(config, shared),
                    shared.keepAlive.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static synchronized void closeIfUnused(EngineConfig config, Shared shared) {
        if (OPEN.get(config) == shared && shared.users == 0) {
            close(config, shared);
        }
    }

    private static void close(EngineConfig config, Shared shared) {
        OPEN.remove(config);
        shared.pendingClose = null;
        try {
            shared.engine.close();
            LOG.info("Closed engine {}", config.model());
        } catch (RuntimeException e) {
            LOG.warn("Closing engine {} failed: {}", config.model(), e.toString());
        }
    }

    private static final class Shared {
        final Engine engine;
        final Duration keepAlive;
        int users;
        ScheduledFuture<?> pendingClose;

        Shared(Engine engine, Duration keepAlive) {
            this.engine = engine;
            this.keepAlive = keepAlive;
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
