package dev.pflash.runtime.backend.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A fixed set of worker threads shared by every op of one backend. {@link #forRange} splits a
 * range into chunks that the calling thread and the workers take from a shared counter, so uneven
 * chunks balance themselves and a call never waits for a worker that is busy elsewhere: the
 * caller finishes whatever the workers do not take. Safe to call from several threads at once.
 */
final class CpuThreadPool implements AutoCloseable {
    /** The body of a parallel loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    private static final AtomicInteger POOL_COUNT = new AtomicInteger();

    private final int threads;
    private final ExecutorService workers;

    CpuThreadPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        if (threads == 1) {
            this.workers = null;
        } else {
            int pool = POOL_COUNT.incrementAndGet();
            AtomicInteger count = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, "pflash-cpu-" + pool + "-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            this.workers = Executors.newFixedThreadPool(threads - 1, factory);
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of {@code grain} indices (the last may be
     * shorter) and returns when all are done; the first failure of any chunk is rethrown.
     */
    void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int chunks = (n + g - 1) / g;
        if (chunks == 1 || workers == null) {
            body.run(0, n);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(chunks);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable drain = () -> {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        body.run(c * g, Math.min(n, (c + 1) * g));
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            }
        };
        int helpers = Math.min(threads - 1, chunks - 1);
        for (int i = 0; i < helpers; i++) {
            try {
                workers.execute(drain);
            } catch (RejectedExecutionException e) {
                throw new IllegalStateException("the CPU backend is closed", e);
            }
        }
        drain.run();
        awaitUninterruptibly(done);
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** A grain that gives each thread several chunks of at least {@code minGrain} indices. */
    int grain(int n, int minGrain) {
        return Math.max(minGrain, (n + 4 * threads - 1) / (4 * threads));
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                // The chunks in flight write into caller buffers; returning early would hand back half-written results.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdown();
        }
    }
}
