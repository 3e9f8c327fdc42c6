package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every committed PTX module assembles with ptxas for each architecture the README names
 * (sm_80 A100, sm_86 RTX 30, sm_89 RTX 40 / L4 / L40S, sm_90 H100 / H200) without spilling, and
 * every kernel fits its launch configuration there: registers x threads within the register
 * file, static plus dynamic shared memory within what a block may opt into. The configurations
 * are the host's own ({@link CudaKernels#blockThreads}, {@link CudaKernels#sharedBytes}). Skipped,
 * saying so, where ptxas is not on the PATH. Writes the resource table (registers, shared memory,
 * blocks per SM) to target/ptx-resources.md.
 */
class PtxResourcesTest {
    /** An architecture's per-SM limits (CUDA C Programming Guide, compute capabilities table). */
    record Arch(String name, int maxThreadsPerSm, int maxBlocksPerSm, int sharedPerSm, int sharedPerBlockOptin) {
        static final int REGISTERS_PER_SM = 65_536;
        static final int RESERVED_SHARED_PER_BLOCK = 1024;

        int blocksPerSm(int registers, int threads, int shared) {
            int warps = (threads + 31) / 32;
            int registersPerWarp = (registers * 32 + 255) / 256 * 256;
            int byRegisters = REGISTERS_PER_SM / (registersPerWarp * warps);
            int byThreads = maxThreadsPerSm / threads;
            int byShared = sharedPerSm / (shared + RESERVED_SHARED_PER_BLOCK);
            return Math.min(Math.min(byRegisters, byThreads), Math.min(byShared, maxBlocksPerSm));
        }
    }

    static final List<Arch> ARCHS = List.of(new Arch("sm_80", 2048, 32, 167_936, 166_912),
            new Arch("sm_86", 1536, 16, 102_400, 101_376), new Arch("sm_89", 1536, 24, 102_400, 101_376),
            new Arch("sm_90", 2048, 32, 233_472, 232_448));

    private static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\d+)'");
    private static final Pattern SPILLS = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern USED = Pattern.compile("Used (\\d+) registers");
    private static final Pattern SMEM = Pattern.compile("(\\d+) bytes smem");

    record Usage(int registers, int spillBytes, int staticShared) {
    }

    @Test
    void everyKernelAssemblesWithoutSpillsAndFitsItsLaunchOnEveryArchitecture(@TempDir Path dir) throws Exception {
        assumeTrue(ptxasRuns(), "ptxas is not on the PATH: the PTX resource check needs the CUDA toolkit's ptxas");
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        StringBuilder table = new StringBuilder("| kernel | arch | registers | threads | shared bytes (static + dynamic)"
                + " | blocks per SM |\n|---|---|---|---|---|---|\n");
        // ptxas runs for every module and architecture at once; the results are read in order.
        Map<String, Future<Map<String, Usage>>> runs = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()));
        try {
            for (String module : PtxModules.NAMES) {
                Path ptx = dir.resolve(module + ".ptx");
                Files.writeString(ptx, PtxModules.source(module), StandardCharsets.US_ASCII);
                for (Arch arch : ARCHS) {
                    runs.put(module + " " + arch.name(), pool.submit(() -> assemble(ptx, arch.name(), problems)));
                }
            }
            for (Future<Map<String, Usage>> run : runs.values()) {
                run.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (String module : PtxModules.NAMES) {
            for (Arch arch : ARCHS) {
                Map<String, Usage> usage = runs.get(module + " " + arch.name()).get();
                for (String kernel : CudaKernels.kernelNames(module)) {
                    Usage u = usage.get(kernel);
                    if (u == null) {
                        problems.add(module + ".ptx has no kernel " + kernel + " for " + arch.name());
                        continue;
                    }
                    int threads = CudaKernels.blockThreads(kernel);
                    int shared = u.staticShared() + CudaKernels.sharedBytes(kernel);
                    int blocks = arch.blocksPerSm(u.registers(), threads, shared);
                    table.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %d | %d |%n", kernel, arch.name(),
                            u.registers(), threads, shared, blocks));
                    if (u.spillBytes() > 0) {
                        problems.add(kernel + " spills " + u.spillBytes() + " bytes on " + arch.name());
                    }
                    if (shared > arch.sharedPerBlockOptin()) {
                        problems.add(kernel + " needs " + shared + " bytes of shared memory; " + arch.name()
                                + " gives a block at most " + arch.sharedPerBlockOptin());
                    }
                    if (blocks < 1) {
                        problems.add(kernel + " with " + u.registers() + " registers x " + threads + " threads and "
                                + shared + " bytes of shared memory does not fit an " + arch.name() + " SM");
                    }
                }
            }
        }
        Path report = Path.of("target", "ptx-resources.md");
        Files.createDirectories(report.getParent());
        Files.writeString(report, table.toString(), StandardCharsets.UTF_8);
        assertThat(problems).as("ptxas findings (table in %s)", report.toAbsolutePath()).isEmpty();
    }

    @Test
    void theLimitsArithmeticMatchesTheOccupancyTheIssueNamed() {
        Arch a100 = ARCHS.get(0);
        Arch rtx = ARCHS.get(1);
        // Flash attention d128 on an RTX 30/40 and d64 on an A100: with O, S and P in shared memory
        // (65,792 and 41,216 bytes, 80 and 56 registers) one and three blocks per SM; with them in
        // registers, shared memory holds only the K and V tiles and registers set the limit.
        assertThat(rtx.blocksPerSm(80, 128, 65_792)).isEqualTo(1);
        assertThat(rtx.blocksPerSm(164, 128, FlashAttentionLayout.sharedBytes(128))).isEqualTo(3);
        assertThat(a100.blocksPerSm(56, 128, 41_216)).isEqualTo(3);
        assertThat(a100.blocksPerSm(108, 128, FlashAttentionLayout.sharedBytes(64))).isEqualTo(4);
        assertThat(FlashAttentionLayout.sharedBytes(128)).isEqualTo(18_944);
        assertThat(FlashAttentionLayout.sharedBytes(64)).isEqualTo(9_728);
        // 128 registers x 256 threads: two blocks fill the register file exactly.
        assertThat(a100.blocksPerSm(128, 256, 0)).isEqualTo(2);
        assertThat(a100.blocksPerSm(129, 256, 0)).isEqualTo(1);
    }

    private static Map<String, Usage> assemble(Path ptx, String arch, List<String> problems)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ptxas", "-arch=" + arch, "-v", "-o", "/dev/null", ptx.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            problems.add("ptxas -arch=" + arch + " " + ptx.getFileName() + " failed:\n" + out);
            return Map.of();
        }
        Map<String, Usage> usage = new LinkedHashMap<>();
        String kernel = null;
        int spills = 0;
        for (String line : out.lines().toList()) {
            Matcher entry = ENTRY.matcher(line);
            if (entry.find()) {
                kernel = entry.group(1);
                spills = 0;
                continue;
            }
            Matcher s = SPILLS.matcher(line);
            if (kernel != null && s.find()) {
                spills = Integer.parseInt(s.group(1)) + Integer.parseInt(s.group(2));
            }
            Matcher used = USED.matcher(line);
            if (kernel != null && used.find()) {
                Matcher smem = SMEM.matcher(line);
                usage.put(kernel, new Usage(Integer.parseInt(used.group(1)), spills,
                        smem.find() ? Integer.parseInt(smem.group(1)) : 0));
                kernel = null;
            }
        }
        return usage;
    }

    private static boolean ptxasRuns() {
        try {
            Process p = new ProcessBuilder("ptxas", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
