package dev.pflash.benchmarks;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.Backends;
import dev.pflash.runtime.backend.cpu.VectorSupport;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CPU backend a benchmark measures, with the kernel family ({@code vector} or {@code scalar})
 * and the threads as JMH parameters. The kernel layer reads {@link VectorSupport#PROPERTY} when its
 * classes load, so the family is set here, before any CPU op runs in the JVM: each JMH fork runs
 * one parameter combination ({@code -f 0} would mix the families).
 */
@State(Scope.Benchmark)
public class CpuBackendState {
    @Param({"vector", "scalar"})
    public String kernels;

    /** CPU threads; 0 uses every core. */
    @Param({"0"})
    public int threads;

    Backend backend;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty(VectorSupport.PROPERTY, kernels);
        if (VectorSupport.useVectorKernels() != kernels.equals("vector")) {
            throw new IllegalStateException("asked for " + kernels + " kernels, but the CPU backend would use the"
                    + " others");
        }
        backend = Backends.create("cpu", threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
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
