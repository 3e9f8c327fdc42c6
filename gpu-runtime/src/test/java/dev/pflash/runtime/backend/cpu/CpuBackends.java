package dev.pflash.runtime.backend.cpu;

/** CPU backends with a chosen kernel family, for tests that compare the vector and scalar kernels. */
public final class CpuBackends {
    private CpuBackends() {
    }

    /** A backend built while {@link VectorSupport#PROPERTY} is {@code kernels} ("vector" or "scalar"). */
    public static CpuBackend withKernels(String kernels, int threads) {
        return withKernels(kernels, threads, true);
    }

    /** As {@link #withKernels(String, int)}; {@code repack} false keeps every matrix in the file's layout only. */
    static CpuBackend withKernels(String kernels, int threads, boolean repack) {
        String before = System.getProperty(VectorSupport.PROPERTY);
        System.setProperty(VectorSupport.PROPERTY, kernels);
        try {
            return new CpuBackend(threads, repack);
        } finally {
            if (before == null) {
                System.clearProperty(VectorSupport.PROPERTY);
            } else {
                System.setProperty(VectorSupport.PROPERTY, before);
            }
        }
    }
}
