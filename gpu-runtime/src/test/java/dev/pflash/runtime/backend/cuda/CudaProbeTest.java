package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The probe's reasons, from JCuda's long loading errors, and how devices are described. */
class CudaProbeTest {
    @Test
    void aMissingDriverLibraryIsSaidInOnePhrase() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open "
                + "shared object file: No such file or directory");
        assertThat(CudaProbe.bindingFailure(e))
                .isEqualTo("the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver on this machine)");
    }

    @Test
    void anyOtherLoadingErrorKeepsItsFirstLine() {
        NoClassDefFoundError e = new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver\nmore");
        assertThat(CudaProbe.bindingFailure(e)).isEqualTo("the JCuda driver binding could not be loaded "
                + "(NoClassDefFoundError: Could not initialize class jcuda.driver.JCudaDriver)");
    }

    @Test
    void aMissingCppRuntimeIsNamedWithWhatToInstall() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libstdc++.so.6: cannot "
                + "open shared object file: No such file or directory\n"
                + "\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)");
        assertThat(CudaProbe.bindingFailure(e)).isEqualTo("the JCuda driver binding could not be loaded: "
                + "/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libstdc++.so.6: cannot open shared object file: No such "
                + "file or directory; install the C++ runtime (libstdc++6 on Debian/Ubuntu, libstdc++ on RHEL/Fedora)");
    }

    @Test
    void aNoexecTempFolderIsNamedFromTheCause() {
        RuntimeException cause = new RuntimeException("java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: "
                + "/tmp/libJCudaDriver.so: failed to map segment from shared object");
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver\"");
        e.initCause(cause);
        assertThat(CudaProbe.bindingFailure(e)).startsWith("the JCuda driver binding could not be loaded: "
                + "/tmp/libJCudaDriver.so: /tmp/libJCudaDriver.so: failed to map segment from shared object; "
                + "the temporary folder").contains("-Djava.io.tmpdir");
    }

    @Test
    void devicesAreDescribedWithWhatDecidesTheirUse() {
        CudaDeviceInfo rtx = new CudaDeviceInfo(1, "NVIDIA GeForce RTX 3090", 86, 25_438_715_904L, 12040, 82, 1_695_000,
                101_376);
        assertThat(rtx).hasToString("NVIDIA GeForce RTX 3090 (device 1, compute 8.6, 23.7 GiB, 82 SMs, driver CUDA 12.4)");
        assertThat(CudaDeviceInfo.cudaVersionText(13000)).isEqualTo("13.0");
        assertThat(CudaDeviceInfo.cudaVersionText(12090)).isEqualTo("12.9");
        assertThat(TensorCorePeak.of(rtx)).isEqualTo(new TensorCorePeak(71.0, "data sheet (RTX 3090)"));
        CudaDeviceInfo unknown = new CudaDeviceInfo(0, "NVIDIA Future GPU", 90, 1L << 36, 13000, 100, 2_000_000, 232_448);
        assertThat(TensorCorePeak.of(unknown).tflops()).isEqualTo(100 * 2e9 * 4096 / 1e12);
    }
}
