package dev.pflash.runtime.backend.cuda;

import java.util.Locale;

/**
 * What the driver says about one device.
 *
 * @param computeCapability   major * 10 + minor (80 = Ampere A100, 86/89 = RTX 30/40, 90 = Hopper)
 * @param driverVersion       the CUDA version the driver supports, as cuDriverGetVersion gives it (13000 = 13.0)
 * @param clockKhz            peak SM clock, or 0 where the driver does not report it
 * @param sharedMemoryOptin   the most dynamic shared memory one block may opt in to, in bytes
 */
public record CudaDeviceInfo(int ordinal, String name, int computeCapability, long totalMemory, int driverVersion,
        int multiprocessors, int clockKhz, int sharedMemoryOptin) {

    public String computeCapabilityText() {
        return computeCapability / 10 + "." + computeCapability % 10;
    }

    /** "13.0" for 13000. */
    public static String cudaVersionText(int version) {
        return version / 1000 + "." + version % 1000 / 10;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (device %d, compute %s, %.1f GiB, %d SMs, driver CUDA %s)", name, ordinal,
                computeCapabilityText(), totalMemory / (double) (1L << 30), multiprocessors,
                cudaVersionText(driverVersion));
    }
}
