package dev.pflash.runtime.backend.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Whether this JVM can run the CUDA backend, and if not, why: the JCuda driver binding must load
 * (it needs the NVIDIA driver's {@code libcuda.so.1}), {@code cuInit} must succeed, a device of
 * compute capability 8.0 or newer must exist, and the driver must accept the PTX ISA version of
 * the kernels. Probed once per JVM ({@link #get()}): a binding that failed to load cannot be
 * loaded again anyway.
 *
 * @param available   whether {@link CudaBackend#open} can be expected to work
 * @param reason      for an unavailable backend, why, in a phrase that completes "CUDA is not available: ..."
 * @param device      device 0's name and properties, or null when there is none
 */
public record CudaProbe(boolean available, String reason, CudaDeviceInfo device) {
    /** The oldest compute capability the PTX targets (compute_80). */
    public static final int MIN_COMPUTE_CAPABILITY = 80;

    private static volatile CudaProbe cached;

    /** The probe of this JVM, run on first use. */
    public static CudaProbe get() {
        CudaProbe p = cached;
        if (p == null) {
            synchronized (CudaProbe.class) {
                p = cached;
                if (p == null) {
                    p = run();
                    cached = p;
                }
            }
        }
        return p;
    }

    private static CudaProbe unavailable(String reason) {
        return new CudaProbe(false, reason, null);
    }

    private static CudaProbe run() {
        int init;
        try {
            JCudaDriver.setExceptionsEnabled(false);
            init = JCudaDriver.cuInit(0);
        } catch (LinkageError e) {
            return unavailable(bindingFailure(e));
        }
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            return unavailable("the NVIDIA driver is installed but reports no CUDA device");
        }
        if (init != CUresult.CUDA_SUCCESS) {
            return unavailable("cuInit failed with " + CudaCalls.errorName(init)
                    + " (driver installed but unusable: check that the driver and kernel module versions match)");
        }
        int[] count = new int[1];
        int r = JCudaDriver.cuDeviceGetCount(count);
        if (r != CUresult.CUDA_SUCCESS || count[0] == 0) {
            return unavailable("the NVIDIA driver reports no CUDA device");
        }
        CudaDeviceInfo info = describe(0);
        if (info.computeCapability() < MIN_COMPUTE_CAPABILITY) {
            return new CudaProbe(false, "device 0 (" + info.name() + ") has compute capability "
                    + info.computeCapabilityText() + "; the kernels need 8.0 (Ampere) or newer", info);
        }
        PtxModules.Requirement ptx = PtxModules.requirement();
        if (info.driverVersion() < ptx.minDriverCudaVersion()) {
            return new CudaProbe(false, "the driver supports CUDA " + CudaDeviceInfo.cudaVersionText(info.driverVersion())
                    + " but the kernels' PTX (ISA " + ptx.isaText() + ") needs a CUDA "
                    + CudaDeviceInfo.cudaVersionText(ptx.minDriverCudaVersion())
                    + " driver; update the driver or rebuild the PTX with an older nvcc (README, CUDA backend)", info);
        }
        return new CudaProbe(true, "", info);
    }

    /** Name and properties of device {@code ordinal}; cuInit must have succeeded. */
    static CudaDeviceInfo describe(int ordinal) {
        CUdevice dev = new CUdevice();
        CudaCalls.check(JCudaDriver.cuDeviceGet(dev, ordinal), "cuDeviceGet");
        byte[] name = new byte[256];
        CudaCalls.check(JCudaDriver.cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) {
            len++;
        }
        long[] total = new long[1];
        CudaCalls.check(JCudaDriver.cuDeviceTotalMem(total, dev), "cuDeviceTotalMem");
        int[] driver = new int[1];
        CudaCalls.check(JCudaDriver.cuDriverGetVersion(driver), "cuDriverGetVersion");
        int major = CudaCalls.attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        int minor = CudaCalls.attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        int sms = CudaCalls.attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int clockKhz = CudaCalls.attributeOrZero(dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
        int smemOptin = CudaCalls.attribute(dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        return new CudaDeviceInfo(ordinal, new String(name, 0, len, StandardCharsets.UTF_8), major * 10 + minor,
                total[0], driver[0], sms, clockKhz, smemOptin);
    }

    /**
     * A short reason from JCuda's long multi-attempt loading error: its first line only says
     * "Error while loading native library", so the reason is the innermost loader message (the
     * last "...: cannot open shared object file", "failed to map segment" and the like in the
     * error, its causes and suppressed errors), with what to do for the usual causes.
     */
    static String bindingFailure(Throwable e) {
        StringBuilder all = new StringBuilder();
        collectMessages(e, all, 0);
        String text = all.toString();
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.contains("libcuda.so")) {
            return "the NVIDIA driver library libcuda.so.1 was not found (no NVIDIA driver on this machine)";
        }
        if (lower.contains("nvcuda.dll")) {
            return "the NVIDIA driver library nvcuda.dll was not found (no NVIDIA driver on this machine)";
        }
        String cause = rootCause(text);
        if (cause == null) {
            String first = text.lines().findFirst().orElse(text).trim();
            return "the JCuda driver binding could not be loaded (" + e.getClass().getSimpleName() + ": " + first + ")";
        }
        String hint = "";
        String lowerCause = cause.toLowerCase(Locale.ROOT);
        if (lowerCause.contains("libstdc++")) {
            hint = "; install the C++ runtime (libstdc++6 on Debian/Ubuntu, libstdc++ on RHEL/Fedora)";
        } else if (lowerCause.contains("failed to map segment") || lowerCause.contains("operation not permitted")) {
            hint = "; the temporary folder JCuda unpacks its library into may be mounted noexec: point "
                    + "-Djava.io.tmpdir at a folder that allows executables";
        }
        return "the JCuda driver binding could not be loaded: " + cause + hint;
    }

    private static void collectMessages(Throwable e, StringBuilder into, int depth) {
        if (e == null || depth > 8) {
            return;
        }
        into.append(e.getMessage()).append('\n');
        for (Throwable s : e.getSuppressed()) {
            collectMessages(s, into, depth + 1);
        }
        collectMessages(e.getCause(), into, depth + 1);
    }

    /** The last line that names why the dynamic loader refused a library, from the library's path on; null if none. */
    private static String rootCause(String text) {
        String found = null;
        for (String line : text.lines().toList()) {
            String l = line.toLowerCase(Locale.ROOT);
            if (l.contains("cannot open shared object") || l.contains("failed to map segment")
                    || l.contains("undefined symbol") || l.contains("wrong elf class") || l.contains("version `")
                    || l.contains("operation not permitted") || l.contains("permission denied")) {
                found = line.trim();
            }
        }
        if (found == null) {
            return null;
        }
        int at = found.indexOf("UnsatisfiedLinkError: ");
        return at >= 0 ? found.substring(at + "UnsatisfiedLinkError: ".length()) : found;
    }

    @Override
    public String toString() {
        return available ? "CUDA available: " + device : "CUDA not available: " + reason;
    }
}
