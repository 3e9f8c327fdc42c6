package dev.pflash.runtime.backend.cpu;

import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the CPU kernels may use the Vector API ({@code jdk.incubator.vector}). Java 17 ships the
 * module but resolves it only when the JVM is started with {@code --add-modules=jdk.incubator.vector};
 * a class that touches a vector species fails to load without it, so the kernel layer asks here
 * first and falls back to its scalar twins. System property {@value #PROPERTY} ({@code auto},
 * {@code vector}, {@code scalar}) forces a choice, for tests of both paths and for comparisons.
 */
public final class VectorSupport {
    /** The system property that forces the kernel family. */
    public static final String PROPERTY = "pflash.cpu.kernels";

    private static final Logger LOG = LoggerFactory.getLogger(VectorSupport.class);
    private static final String MODULE = "jdk.incubator.vector";
    private static volatile boolean logged;

    private VectorSupport() {
    }

    /** Whether the JVM resolved the Vector API module. */
    public static boolean moduleResolved() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    /**
     * Whether vector kernels should run: the module is resolved and the property does not ask for
     * scalar kernels.
     *
     * @throws IllegalStateException if the property asks for vector kernels and the module is missing,
     *     or names an unknown family
     */
    public static boolean useVectorKernels() {
        String wanted = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "scalar":
                return false;
            case "vector":
                if (!moduleResolved()) {
                    throw new IllegalStateException(PROPERTY + "=vector, but the JVM was started without --add-modules="
                            + MODULE);
                }
                return true;
            case "auto":
                return moduleResolved();
            default:
                throw new IllegalStateException(PROPERTY + "=" + wanted + " is not one of auto, vector, scalar");
        }
    }

    /** Why the scalar kernels run, when they do. */
    public static Optional<String> scalarReason() {
        String wanted = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (wanted.equals("scalar")) {
            return Optional.of(PROPERTY + "=scalar");
        }
        if (!moduleResolved()) {
            return Optional.of("the JVM was started without --add-modules=" + MODULE);
        }
        return Optional.empty();
    }

    /** Logs once per JVM which kernel family the CPU backend uses, and why. */
    static void logChoiceOnce(String vectorDescription) {
        Optional<String> reason = scalarReason();
        if (reason.isPresent()) {
            logScalarOnce(reason.get());
        } else if (claimLog()) {
            LOG.info("CPU kernels: vector ({})", vectorDescription);
        }
    }

    /** Logs once per JVM that the CPU backend runs its scalar kernels, for {@code reason}. */
    static void logScalarOnce(String reason) {
        if (claimLog()) {
            LOG.info("CPU kernels: scalar ({}); start Java with --add-modules={} on a CPU with 256-bit or wider"
                    + " vectors for the vector kernels", reason, MODULE);
        }
    }

    private static synchronized boolean claimLog() {
        if (logged) {
            return false;
        }
        logged = true;
        return true;
    }
}
