package dev.pflash.runtime.backend;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.backend.cuda.CudaBackend;
import dev.pflash.runtime.backend.cuda.CudaException;
import dev.pflash.runtime.backend.cuda.CudaProbe;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the backend a user asks for by name: {@code cpu}, {@code cuda}, or {@code auto}, which
 * takes CUDA when the JCuda driver binding loads and a usable device exists, else the CPU, and
 * logs one line saying which and why.
 */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /** Which backend a name resolves to on this machine, and the line that says why. */
    record Selection(String backend, String reason) {
    }

    /**
     * @param name    auto, cpu or cuda
     * @param threads CPU threads, 0 for all cores
     * @throws IllegalArgumentException for an unknown name, or cuda where no CUDA device can be used
     */
    public static Backend create(String name, int threads) {
        int cpuThreads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        String key = name.toLowerCase(Locale.ROOT);
        switch (key) {
            case "cpu":
                return new CpuBackend(cpuThreads);
            case "auto":
            case "cuda":
                break;
            default:
                throw new IllegalArgumentException("unknown backend '" + name + "'; choose auto, cpu or cuda");
        }
        Selection s = select(key, cpuThreads, CudaProbe.get());
        if (s.backend().equals("cpu")) {
            LOG.info(s.reason());
            return new CpuBackend(cpuThreads);
        }
        try {
            CudaBackend cuda = CudaBackend.open(0);
            if (key.equals("auto")) {
                LOG.info(s.reason());
            }
            return cuda;
        } catch (CudaException e) {
            if (key.equals("cuda")) {
                throw new IllegalArgumentException("backend cuda is not available: " + e.getMessage()
                        + "; use --backend=cpu or --backend=auto", e);
            }
            LOG.info("backend auto: using the CPU with {} threads: the CUDA backend failed to start: {}", cpuThreads,
                    e.getMessage());
            return new CpuBackend(cpuThreads);
        }
    }

    /**
     * Resolves {@code auto} or {@code cuda} against a CUDA probe.
     *
     * @throws IllegalArgumentException for cuda where the probe found no usable device
     */
    static Selection select(String name, int cpuThreads, CudaProbe probe) {
        if (probe.available()) {
            return new Selection("cuda", "backend " + name + ": using CUDA on " + probe.device());
        }
        if (name.equals("cuda")) {
            throw new IllegalArgumentException("backend cuda is not available: " + probe.reason()
                    + "; use --backend=cpu or --backend=auto");
        }
        return new Selection("cpu", "backend auto: using the CPU with " + cpuThreads + " threads: CUDA is not available: "
                + probe.reason());
    }
}
