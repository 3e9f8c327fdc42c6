package dev.pflash.pipeline.flow;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many documents of a run this JVM has let in ({@link AdmitFiles}) that have not yet become a
 * row ({@link FinishDocuments}), and the most there ever were at once.
 *
 * <p>The Direct runner runs every step of a job in one JVM and has no backpressure of its own:
 * its workers take bundles first in, first out, so without a limit every file of the corpus is
 * read and tokenized before the engine sees the first prompt, and all those prompts wait in
 * memory. Counting in the JVM is enough there. On Flink and Spark the steps of one document run on
 * different machines, so the jobs leave admission open ({@link #UNLIMITED}) and those runners'
 * own flow control applies.
 */
public final class DocumentsInFlight {
    /** The limit that admits every file at once. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    private static final Map<String, Counts> RUNS = new ConcurrentHashMap<>();

    private DocumentsInFlight() {
    }

    /** How many more documents of {@code runId} may enter under {@code limit}. */
    static long room(String runId, int limit) {
        return Math.max(0, limit - RUNS.computeIfAbsent(runId, id -> new Counts()).now.get());
    }

    static void admit(String runId) {
        Counts counts = RUNS.computeIfAbsent(runId, id -> new Counts());
        counts.peak.accumulateAndGet(counts.now.incrementAndGet(), Math::max);
    }

    /** A document of {@code runId} became its result or error row; a run this JVM did not admit is left alone. */
    static void finish(String runId) {
        Counts counts = RUNS.get(runId);
        if (counts != null) {
            counts.now.decrementAndGet();
        }
    }

    /** Documents of {@code runId} admitted in this JVM and not yet finished. */
    public static long now(String runId) {
        Counts counts = RUNS.get(runId);
        return counts == null ? 0 : counts.now.get();
    }

    /** The most documents of {@code runId} that were ever in flight at once in this JVM. */
    public static long peak(String runId) {
        Counts counts = RUNS.get(runId);
        return counts == null ? 0 : counts.peak.get();
    }

    private static final class Counts {
        final AtomicLong now = new AtomicLong();
        final AtomicLong peak = new AtomicLong();
    }
}
