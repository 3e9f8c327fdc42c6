package dev.pflash.runtime.backend.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of persistent worker threads shared by every op of one backend. A decode step runs
 * hundreds of small ops, so handing one to the workers must cost microseconds: the caller
 * publishes the op and bumps a generation counter; workers spin briefly on that counter between
 * ops and park only after {@link #SPIN_NANOS} without work. {@link #forRange} splits a range into
 * chunks that the calling thread and the workers claim from a shared counter, so uneven chunks
 * balance themselves and a call never waits for a worker that has not started: the caller
 * finishes whatever the workers do not take.
 *
 * <p>Safe to call from several threads at once: one call at a time owns the workers; a call that
 * finds them busy (another thread's op, or a nested call from inside a body) runs its chunks on
 * its own thread.
 */
final class CpuThreadPool implements AutoCloseable {
    /** The body of a parallel loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }

    /** How long an idle worker, or a caller waiting for the last chunks, spins before it sleeps. */
    private static final long SPIN_NANOS = 200_000;
    /** Spin iterations between clock reads. */
    private static final int SPINS_PER_CLOCK_READ = 64;

    private static final AtomicInteger POOL_COUNT = new AtomicInteger();

    private final int threads;
    private final Thread[] workers;
    private final boolean[] parkedFlags;
    private final AtomicBoolean owned = new AtomicBoolean();

    /** Bumped to publish an op; workers wait for it to change. */
    private volatile long generation;
    private volatile boolean closed;
    /**
     * The generation in the high 32 bits, the next unclaimed chunk in the low 32: a claim is a
     * CAS, so a late worker cannot take a chunk of a newer op.
     */
    private final AtomicLong claims = new AtomicLong();
    private final AtomicInteger remaining = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The current op; written before {@link #generation}, read after it. */
    private RangeBody body;
    private int size;
    private int grain;
    private int chunks;

    CpuThreadPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parkedFlags = new boolean[threads - 1];
        int pool = POOL_COUNT.incrementAndGet();
        for (int i = 0; i < workers.length; i++) {
            int index = i;
            Thread t = new Thread(() -> work(index), "pflash-cpu-" + pool + "-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
            t.start();
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
        int count = (n + g - 1) / g;
        if (count == 1 || workers.length == 0) {
            body.run(0, n);
            return;
        }
        if (closed) {
            throw new IllegalStateException("the CPU backend is closed");
        }
        if (!owned.compareAndSet(false, true)) {
            for (int c = 0; c < count; c++) {
                body.run(c * g, Math.min(n, (c + 1) * g));
            }
            return;
        }
        try {
            runOwned(n, g, count, body);
        } finally {
            this.body = null;
            owned.set(false);
        }
    }

    private void runOwned(int n, int g, int count, RangeBody op) {
        long gen = generation + 1;
        // Close the last op's claims before its fields change: a late worker's claim then fails.
        claims.set(gen << 32 | Integer.MAX_VALUE);
        this.body = op;
        this.size = n;
        this.grain = g;
        this.chunks = count;
        failure.set(null);
        remaining.set(count);
        claims.set(gen << 32);
        generation = gen;
        for (int i = 0; i < workers.length; i++) {
            if (isParked(i)) {
                LockSupport.unpark(workers[i]);
            }
        }
        drain(gen);
        awaitChunks();
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

    /** Claims and runs chunks of op {@code gen} until none are left. */
    private void drain(long gen) {
        while (true) {
            long c = claims.get();
            if ((c >>> 32) != gen || (int) c >= chunks) {
                return;
            }
            if (!claims.compareAndSet(c, c + 1)) {
                continue;
            }
            // A successful claim pins op gen until this chunk is done, so the fields below are its own.
            int chunk = (int) c;
            try {
                if (failure.get() == null) {
                    body.run(chunk * grain, Math.min(size, (chunk + 1) * grain));
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                remaining.decrementAndGet();
            }
        }
    }

    /**
     * Waits for chunks still running on workers; they write into the caller's buffers, so
     * returning early is not an option.
     */
    private void awaitChunks() {
        long start = 0;
        int spins = 0;
        while (remaining.get() > 0) {
            if (++spins % SPINS_PER_CLOCK_READ == 0) {
                long now = System.nanoTime();
                if (start == 0) {
                    start = now;
                } else if (now - start > SPIN_NANOS) {
                    LockSupport.parkNanos(20_000);
                    continue;
                }
            }
            Thread.onSpinWait();
        }
    }

    private void work(int index) {
        long seen = 0;
        while (true) {
            long gen = awaitGeneration(index, seen);
            if (closed) {
                return;
            }
            seen = gen;
            drain(gen);
        }
    }

    /** Spins for a new generation, then parks until one is published. */
    private long awaitGeneration(int index, long seen) {
        long start = System.nanoTime();
        int spins = 0;
        while (true) {
            long gen = generation;
            if (gen != seen || closed) {
                return gen;
            }
            if (++spins % SPINS_PER_CLOCK_READ == 0 && System.nanoTime() - start > SPIN_NANOS) {
                setParked(index, true);
                // Re-read after announcing the park: a caller that bumped the generation before
                // seeing the flag is caught here.
                if (generation == seen && !closed) {
                    LockSupport.park(this);
                }
                setParked(index, false);
                start = System.nanoTime();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    private boolean isParked(int index) {
        synchronized (parkedFlags) {
            return parkedFlags[index];
        }
    }

    private void setParked(int index, boolean parked) {
        synchronized (parkedFlags) {
            parkedFlags[index] = parked;
        }
    }

    /** A grain that gives each thread several chunks of at least {@code minGrain} indices. */
    int grain(int n, int minGrain) {
        return Math.max(minGrain, (n + 4 * threads - 1) / (4 * threads));
    }

    @Override
    public void close() {
        closed = true;
        generation = generation + 1;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
