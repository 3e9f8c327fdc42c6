package dev.pflash.jobs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A job run in a JVM of its own, as a nightly run is, so that a test can kill it (kill -9) part-way. */
final class JobProcess {
    private final Process process;

    private JobProcess(Process process) {
        this.process = process;
    }

    static JobProcess start(Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "--add-modules=jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        return new JobProcess(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start());
    }

    /**
     * Kills the JVM (SIGKILL) once {@code ready} holds, checking every 200 ms; returns false
     * when the job ended first.
     */
    boolean killWhen(BooleanSupplier ready, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            if (ready.getAsBoolean()) {
                process.destroyForcibly();
                process.waitFor();
                return true;
            }
            Thread.sleep(200);
        }
        process.destroyForcibly();
        process.waitFor();
        throw new IllegalStateException("the job did not reach the kill point within " + timeoutSeconds + " s");
    }
}
