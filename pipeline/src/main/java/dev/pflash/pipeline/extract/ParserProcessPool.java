package dev.pflash.pipeline.extract;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool of {@link ParserProcess} JVMs, each with its own heap limit, that extract files for this
 * JVM. A parse that passes its time limit has its process killed; a parse that exhausts the heap
 * ends its process; either way the file fails with an {@link ExtractionException} that says so,
 * a fresh process takes the dead one's place, and this JVM goes on. One pool per JVM and set of
 * limits, shared by all threads; the processes end with this JVM.
 */
public final class ParserProcessPool {
    private static final Logger LOG = LoggerFactory.getLogger(ParserProcessPool.class);
    /** Exit status of a JVM that {@code -XX:+ExitOnOutOfMemoryError} ended. */
    private static final int OUT_OF_MEMORY_EXIT = 3;
    /** Time a process gets beyond the parse limit to report its own timeout before it is killed. */
    private static final long GRACE_MILLIS = 2_000;
    /** Time a fresh process gets to start its JVM and load Tika, which the first file's limit must not pay for. */
    private static final long STARTUP_MILLIS = 180_000;
    /** Room in an answer beyond its text (metadata, serialization framing). */
    private static final int ANSWER_OVERHEAD_BYTES = 1 << 20;
    private static final Map<ExtractionLimits, ParserProcessPool> POOLS = new HashMap<>();
    /** Reads the answers, so that a wait for one can time out; a thread per busy process. */
    private static final ExecutorService READERS = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "pflash-parser-answer");
        thread.setDaemon(true);
        return thread;
    });

    private final ExtractionLimits limits;
    private final BlockingQueue<Worker> idle;
    private final List<Worker> all = new ArrayList<>();

    private ParserProcessPool(ExtractionLimits limits) {
        this.limits = limits;
        this.idle = new ArrayBlockingQueue<>(limits.parserProcesses());
        for (int i = 0; i < limits.parserProcesses(); i++) {
            idle.add(start());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "pflash-parser-pool-stop"));
    }

    /** The pool for these limits, started on first use. */
    public static synchronized ParserProcessPool shared(ExtractionLimits limits) {
        if (limits.parserProcesses() < 1) {
            throw new IllegalArgumentException("a parser pool needs at least one process, got "
                    + limits.parserProcesses());
        }
        return POOLS.computeIfAbsent(limits, ParserProcessPool::new);
    }

    /**
     * Extracts the file at local {@code path}, known as {@code uri}, in one of the pool's
     * processes; waits for a free one.
     *
     * @throws ExtractionException when the file yields no text, breaks a limit, or its parse is
     *                             killed (time) or dies (heap)
     */
    public ExtractedDocument extract(String uri, Path path) throws ExtractionException {
        Worker worker;
        try {
            worker = idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExtractionException(uri, "extraction was interrupted while waiting for a parser process", e);
        }
        Worker next = worker;
        try {
            Object answer = worker.ask(uri, path, limits.timeout().toMillis() + GRACE_MILLIS);
            if (answer instanceof String[] reported) {
                ExtractionException failure = ExtractionException.reported(uri, reported[0], reported[1]);
                if (TimeoutException.class.getName().equals(failure.errorClass())) {
                    // The parse thread in that process still spins; a fresh process is cheaper than its CPU.
                    next = replace(worker);
                }
                throw failure;
            }
            return (ExtractedDocument) answer;
        } catch (TimeoutException e) {
            next = replace(worker);
            throw new ExtractionException(uri, "the parser process did not answer within "
                    + (limits.timeout().toMillis() + GRACE_MILLIS) + " ms and was killed", e);
        } catch (IOException | ClassNotFoundException e) {
            int exit = worker.exitStatus();
            next = replace(worker);
            if (exit == OUT_OF_MEMORY_EXIT) {
                throw new ExtractionException(uri, "the parser ran out of its " + limits.parserHeapMb()
                        + " MiB heap (--parser-heap-mb) and its process was ended",
                        new OutOfMemoryError("parser process heap of " + limits.parserHeapMb() + " MiB exhausted"));
            }
            throw new ExtractionException(uri, "the parser process died (exit status " + exit + ")", e);
        } finally {
            idle.add(next);
        }
    }

    private Worker replace(Worker dead) {
        LOG.warn("Replacing a parser process that timed out or died");
        dead.kill();
        synchronized (all) {
            all.remove(dead);
        }
        return start();
    }

    private Worker start() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + limits.parserHeapMb() + "m");
        command.add("-Xss4m");
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add("-XX:+DisplayVMOutputToStderr");
        // The parallel collector's overhead limit ends a parse that only collects garbage near a full heap.
        command.add("-XX:+UseParallelGC");
        command.add("-XX:ParallelGCThreads=1");
        command.add("-cp");
        command.add(classPath());
        command.add(ParserProcess.class.getName());
        command.add(Integer.toString(limits.maxChars()));
        command.add(Integer.toString(limits.maxNestingDepth()));
        command.add(Long.toString(limits.maxCompressionRatio()));
        command.add(Long.toString(limits.timeout().toMillis()));
        try {
            Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            // Java serialization writes a char in at most 3 bytes, and the text is capped at maxChars.
            Worker worker = new Worker(process, 3L * limits.maxChars() + ANSWER_OVERHEAD_BYTES);
            synchronized (all) {
                all.add(worker);
            }
            return worker;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a parser process (" + command.get(0) + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * This JVM's class path, and the jar or folder these classes came from: a cluster worker may
     * load the job's jar through its own class loader, outside {@code java.class.path}.
     */
    private static String classPath() {
        String path = System.getProperty("java.class.path");
        try {
            String own = Path.of(ParserProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString();
            return path == null || path.isEmpty() ? own : own + File.pathSeparator + path;
        } catch (URISyntaxException | RuntimeException e) {
            return path;
        }
    }

    private void stopAll() {
        synchronized (all) {
            all.forEach(Worker::kill);
        }
    }

    /** One parser process and its pipes. */
    private static final class Worker {
        private final Process process;
        private final DataOutputStream requests;
        private final DataInputStream answers;
        private final long maxAnswerBytes;
        private boolean ready;

        Worker(Process process, long maxAnswerBytes) {
            this.process = process;
            this.maxAnswerBytes = maxAnswerBytes;
            this.requests = new DataOutputStream(new BufferedOutputStream(process.getOutputStream()));
            this.answers = new DataInputStream(new BufferedInputStream(process.getInputStream()));
        }

        Object ask(String uri, Path path, long timeoutMillis)
                throws IOException, ClassNotFoundException, TimeoutException {
            if (!ready) {
                read(false, STARTUP_MILLIS);
                ready = true;
            }
            requests.writeUTF(uri);
            requests.writeUTF(path.toAbsolutePath().toString());
            requests.flush();
            byte[] bytes = read(true, timeoutMillis);
            try (ObjectInputStream objects = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
                return objects.readObject();
            }
        }

        /**
         * Reads the {@link ParserProcess#READY} marker and, when {@code answer}, the length-prefixed
         * answer after it, within {@code timeoutMillis}; anything else on the pipe (a dying JVM's
         * last words) is an IOException.
         */
        private byte[] read(boolean answer, long timeoutMillis) throws IOException, TimeoutException {
            CompletableFuture<byte[]> reply = CompletableFuture.supplyAsync(() -> {
                try {
                    if (answers.readInt() != ParserProcess.READY) {
                        throw new IOException("the parser process wrote something other than an answer");
                    }
                    if (!answer) {
                        return new byte[0];
                    }
                    int length = answers.readInt();
                    if (length < 0 || length > maxAnswerBytes) {
                        throw new IOException("the parser process announced an answer of " + length + " bytes");
                    }
                    byte[] bytes = new byte[length];
                    answers.readFully(bytes);
                    return bytes;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, READERS);
            try {
                return reply.get(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the parser process", e);
            } catch (ExecutionException e) {
                throw e.getCause().getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }

        /** The process's exit status, once it has ended (waits briefly for it); -1 if it still runs. */
        int exitStatus() {
            try {
                if (process.waitFor(5, TimeUnit.SECONDS)) {
                    return process.exitValue();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return -1;
        }

        void kill() {
            process.destroyForcibly();
        }
    }

}
