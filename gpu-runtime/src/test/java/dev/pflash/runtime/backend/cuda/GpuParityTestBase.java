package dev.pflash.runtime.backend.cuda;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * The lifecycle every GPU parity test shares: one CUDA device and one CPU backend (the reference)
 * per class, each test skipped with the probe's reason where there is no device. JUnit runs these
 * static methods around a subclass's own, so a subclass may open more from {@code gpu} and
 * {@code cpu} in its @BeforeAll and close it in its @AfterAll before these close the backends.
 * The fields are shared by every subclass, which holds because test classes run one at a time;
 * closing resets them so a class never sees the one before it's backends.
 */
@Tag(GpuTests.TAG)
abstract class GpuParityTestBase {
    static CudaBackend gpu;
    static CpuBackend cpu;

    @BeforeAll
    static void openBackends() {
        gpu = GpuTests.openIfAvailable();
        if (gpu != null) {
            cpu = new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors()));
        }
    }

    @BeforeEach
    void requireGpu() {
        GpuTests.assumeGpu(gpu);
    }

    @AfterAll
    static void closeBackends() {
        if (gpu != null) {
            gpu.close();
            gpu = null;
        }
        if (cpu != null) {
            cpu.close();
            cpu = null;
        }
    }
}
