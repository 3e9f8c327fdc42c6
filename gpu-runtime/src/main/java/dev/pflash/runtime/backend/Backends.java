package dev.pflash.runtime.backend;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the backend a user asks for by name: {@code auto}, {@code cpu} or {@code cuda}. */
public final class Backends {
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    private Backends() {
    }

    /**
     * @param name    auto, cpu or cuda
     * @param threads CPU threads, 0 for all cores
     * @throws IllegalArgumentException for an unknown name, or cuda where no CUDA device can be used
     */
    public static Backend create(String name, int threads) {
        int cpuThreads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        switch (name.toLowerCase(Locale.ROOT)) {
            case "cpu":
                return new CpuBackend(cpuThreads);
            case "auto":
                LOG.info("backend auto: using the CPU with {} threads (this build has no CUDA backend)", cpuThreads);
                return new CpuBackend(cpuThreads);
            case "cuda":
                throw new IllegalArgumentException("backend cuda is not available: this build has no CUDA backend; "
                        + "use --backend=cpu or --backend=auto");
            default:
                throw new IllegalArgumentException("unknown backend '" + name + "'; choose auto, cpu or cuda");
        }
    }
}
