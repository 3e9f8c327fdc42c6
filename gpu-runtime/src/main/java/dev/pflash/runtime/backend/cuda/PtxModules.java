package dev.pflash.runtime.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels' PTX: one module per kernel file of {@code src/main/cuda}, committed as resources
 * beside this class, or read from the folder named by the system property {@value #DIR_PROPERTY}
 * (or the environment variable {@value #DIR_ENV}) to use PTX rebuilt for an older driver without
 * rebuilding the jar. PTX carries an ISA version; a driver accepts the ISA versions of its CUDA
 * version and older.
 */
public final class PtxModules {
    public static final String DIR_PROPERTY = "pflash.cuda.ptx";
    public static final String DIR_ENV = "PFLASH_CUDA_PTX";
    /** Module names: the kernel files of src/main/cuda without ".cu". */
    public static final List<String> NAMES = List.of("dequant", "matmul", "norm_rope", "attention", "pflash",
            "deltanet");

    private static final Pattern VERSION = Pattern.compile("(?m)^\\.version\\s+(\\d+)\\.(\\d+)\\s*$");

    /** The newest PTX ISA among the modules and the oldest driver CUDA version that accepts it. */
    public record Requirement(int isaMajor, int isaMinor, int minDriverCudaVersion) {
        public String isaText() {
            return isaMajor + "." + isaMinor;
        }
    }

    private PtxModules() {
    }

    /** The PTX text of module {@code name}, from the override folder or the resources. */
    public static String source(String name) {
        String dir = System.getProperty(DIR_PROPERTY, System.getenv(DIR_ENV));
        if (dir != null && !dir.isBlank()) {
            Path file = Path.of(dir, name + ".ptx");
            try {
                return Files.readString(file, StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read PTX module " + file + " (set by " + DIR_PROPERTY + "/"
                        + DIR_ENV + "=" + dir + ")", e);
            }
        }
        try (InputStream in = PtxModules.class.getResourceAsStream(name + ".ptx")) {
            if (in == null) {
                throw new IllegalStateException("PTX module " + name + ".ptx is missing from the jar (package "
                        + PtxModules.class.getPackageName() + ")");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read PTX module " + name + ".ptx from the jar", e);
        }
    }

    /** The PTX as the driver takes it: ASCII with a terminating NUL. */
    static byte[] image(String name) {
        byte[] text = source(name).getBytes(StandardCharsets.US_ASCII);
        return Arrays.copyOf(text, text.length + 1);
    }

    /** What the driver must support to load every module. */
    public static Requirement requirement() {
        int bestMajor = 0;
        int bestMinor = 0;
        for (String name : NAMES) {
            Matcher m = VERSION.matcher(source(name));
            if (!m.find()) {
                throw new IllegalStateException("PTX module " + name + " has no .version directive");
            }
            int major = Integer.parseInt(m.group(1));
            int minor = Integer.parseInt(m.group(2));
            if (major > bestMajor || (major == bestMajor && minor > bestMinor)) {
                bestMajor = major;
                bestMinor = minor;
            }
        }
        return new Requirement(bestMajor, bestMinor, minDriverCudaVersion(bestMajor, bestMinor));
    }

    /**
     * The first CUDA version (as cuDriverGetVersion reports it: 12080 = 12.8) whose driver
     * accepts PTX ISA {@code major.minor}: ISA 7.x came with CUDA 11.x, 8.0-8.5 with 12.0-12.5
     * (12.6 kept 8.5), 8.6-8.8 with 12.7-12.9, 9.x with 13.x.
     */
    public static int minDriverCudaVersion(int major, int minor) {
        if (major == 7) {
            return 11000 + 10 * minor;
        }
        if (major == 8) {
            return 12000 + 10 * (minor <= 5 ? minor : minor + 1);
        }
        if (major < 7) {
            return 10000;
        }
        return (major + 4) * 1000 + 10 * minor;
    }

    static String describe(Requirement r) {
        return String.format(Locale.ROOT, "PTX ISA %s (CUDA %s driver or newer)", r.isaText(),
                CudaDeviceInfo.cudaVersionText(r.minDriverCudaVersion()));
    }
}
