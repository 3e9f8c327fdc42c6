package dev.pflash.benchmarks;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.Backends;
import dev.pflash.runtime.backend.cpu.VectorSupport;
import java.util.SplittableRandom;

/** What every benchmark of the CPU backend shares: the backend of the kernel family a fork measures, and inputs. */
final class CpuKernels {
    private CpuKernels() {
    }

    /**
     * The CPU backend with the kernels {@code family} names ({@code vector} or {@code scalar}). The
     * kernel layer reads {@link VectorSupport#PROPERTY} when its classes load, so this must run
     * before any CPU op in the JVM: in a trial setup of a forked benchmark, as each JMH fork runs
     * one parameter combination ({@code -f 0} would mix the families).
     */
    static Backend backend(String family, int threads) {
        System.setProperty(VectorSupport.PROPERTY, family);
        if (VectorSupport.useVectorKernels() != family.equals("vector")) {
            throw new IllegalStateException("asked for " + family + " kernels, but the CPU backend would use the "
                    + "others");
        }
        return Backends.create("cpu", threads);
    }

    /** Uniform floats in [-1, 1): activations of order one, as the forward pass feeds the ops. */
    static float[] randomFloats(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return values;
    }
}
