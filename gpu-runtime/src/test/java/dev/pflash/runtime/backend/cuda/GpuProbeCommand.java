package dev.pflash.runtime.backend.cuda;

/**
 * The GPU bundle's first step: prints one line saying which CUDA device the tests will use, or why
 * there is none, and exits 0 or {@value #NO_GPU} (the exit code run.sh passes on for "no GPU").
 */
public final class GpuProbeCommand {
    static final int NO_GPU = 3;

    private GpuProbeCommand() {
    }

    public static void main(String[] args) {
        CudaProbe probe = CudaProbe.get();
        if (probe.available()) {
            System.out.println("CUDA device: " + probe.device() + "; kernels " + PtxModules.describe(PtxModules.requirement()));
            return;
        }
        System.out.println("no usable CUDA GPU: " + probe.reason());
        System.exit(NO_GPU);
    }
}
