package dev.pflash.pipeline.generate;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Names this worker JVM in error messages, so that a failure on a cluster points at its machine. */
public final class WorkerName {
    private static final String NAME = "worker " + host() + " (JVM pid " + ProcessHandle.current().pid() + ")";

    private WorkerName() {
    }

    /** For example {@code worker tm-3.example.org (JVM pid 4711)}. */
    public static String current() {
        return NAME;
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "unknown-host" : env;
        }
    }
}
