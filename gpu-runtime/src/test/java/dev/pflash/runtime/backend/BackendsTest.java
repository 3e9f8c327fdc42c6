package dev.pflash.runtime.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.backend.cuda.CudaDeviceInfo;
import dev.pflash.runtime.backend.cuda.CudaProbe;
import org.junit.jupiter.api.Test;

/** Backend selection: auto falls back to the CPU with its reason; cuda without a device is a clear error. */
class BackendsTest {
    private static final CudaProbe NO_DRIVER = new CudaProbe(false,
            "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver on this machine)", null);
    private static final CudaProbe NO_DEVICE = new CudaProbe(false, "the NVIDIA driver reports no CUDA device", null);

    @Test
    void autoFallsBackToTheCpuAndSaysWhy() {
        assertThat(Backends.select("auto", 4, NO_DRIVER)).isEqualTo(new Backends.Selection("cpu",
                "backend auto: using the CPU with 4 threads: CUDA is not available: the NVIDIA driver library "
                        + "libcuda.so.1 was not found (no NVIDIA driver on this machine)"));
        assertThat(Backends.select("auto", 2, NO_DEVICE).reason())
                .isEqualTo("backend auto: using the CPU with 2 threads: CUDA is not available: "
                        + "the NVIDIA driver reports no CUDA device");
    }

    @Test
    void autoAndCudaTakeAUsableDevice() {
        CudaDeviceInfo h100 = new CudaDeviceInfo(0, "NVIDIA H100 80GB HBM3", 90, 85_520_809_984L, 13000, 132,
                1_980_000, 232_448);
        CudaProbe gpu = new CudaProbe(true, "", h100);
        assertThat(Backends.select("auto", 2, gpu)).isEqualTo(new Backends.Selection("cuda",
                "backend auto: using CUDA on NVIDIA H100 80GB HBM3 (device 0, compute 9.0, 79.6 GiB, 132 SMs, "
                        + "driver CUDA 13.0)"));
        assertThat(Backends.select("cuda", 2, gpu).backend()).isEqualTo("cuda");
    }

    @Test
    void cudaWithoutADeviceIsAClearError() {
        assertThatThrownBy(() -> Backends.select("cuda", 2, NO_DEVICE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("backend cuda is not available: the NVIDIA driver reports no CUDA device; "
                        + "use --backend=cpu or --backend=auto");
    }

    @Test
    void onAMachineWithoutAGpuAutoIsTheCpuAndCudaFails() {
        CudaProbe probe = CudaProbe.get();
        assumeFalse(probe.available(), "this machine has a usable CUDA device: " + probe.device());
        assertThat(probe.reason()).isNotBlank();
        try (Backend auto = Backends.create("auto", 1)) {
            assertThat(auto).isInstanceOf(CpuBackend.class);
            assertThat(auto.name()).isEqualTo("cpu");
        }
        assertThatThrownBy(() -> Backends.create("CUDA", 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("backend cuda is not available: " + probe.reason() + "; use --backend=cpu or --backend=auto");
    }

    @Test
    void namesAreCaseInsensitiveAndUnknownOnesRejected() {
        try (Backend cpu = Backends.create("CPU", 1)) {
            assertThat(cpu.name()).isEqualTo("cpu");
            assertThat(cpu.threads()).isEqualTo(1);
        }
        assertThatThrownBy(() -> Backends.create("tpu", 1)).hasMessage("unknown backend 'tpu'; choose auto, cpu or cuda");
    }
}
