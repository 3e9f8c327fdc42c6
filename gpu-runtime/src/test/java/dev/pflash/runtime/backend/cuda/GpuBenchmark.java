package dev.pflash.runtime.backend.cuda;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.LocalEngine;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.ModelSources;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import jcuda.driver.CUdeviceptr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU benchmark of the self-test bundle: the tensor-core matrix multiply's TFLOP/s beside the
 * card's peak, dense prefill throughput of synthetic Qwen3-0.6B and -8B models, and PFlash against
 * dense time to first token with the 0.6B drafter and the 8B target at keep ratio 0.05. Writes
 * {@code benchmark.md} into the folder given as {@code --out=DIR}; {@code --quick} runs fewer sizes.
 * Goals (reported, not enforced): the matrix multiply at 40% of peak or more, PFlash 8x faster
 * than dense prefill at 128K tokens.
 */
public final class GpuBenchmark {
    private static final Logger LOG = LoggerFactory.getLogger(GpuBenchmark.class);
    private static final double MATMUL_GOAL = 0.40;
    private static final double PFLASH_GOAL = 8.0;
    private static final int SUFFIX_TOKENS = 32;
    private static final int PREFIX_TOKENS = 256;

    private final List<String> lines = new ArrayList<>();
    private final boolean quick;

    private GpuBenchmark(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of("report");
        boolean quick = false;
        for (String a : args) {
            if (a.startsWith("--out=")) {
                out = Path.of(a.substring("--out=".length()));
            } else if (a.equals("--quick")) {
                quick = true;
            } else {
                throw new IllegalArgumentException("unknown argument '" + a + "'; use --out=DIR and --quick");
            }
        }
        CudaProbe probe = CudaProbe.get();
        if (!probe.available()) {
            throw new IllegalStateException("no usable CUDA device: " + probe.reason());
        }
        GpuBenchmark b = new GpuBenchmark(quick);
        b.run();
        Files.createDirectories(out);
        Files.write(out.resolve("benchmark.md"), b.lines, StandardCharsets.UTF_8);
        LOG.info("benchmark report written to {}", out.resolve("benchmark.md"));
    }

    private void run() {
        try (CudaBackend gpu = CudaBackend.open(0)) {
            line("# GPU benchmark");
            line("");
            line("Device: " + gpu.device() + (quick ? " (quick run: fewer sizes)" : ""));
            line("");
            matmul(gpu);
            densePrefill(gpu);
        }
        pflashAgainstDense();
    }

    // ---- matrix multiply

    private void matmul(CudaBackend gpu) {
        TensorCorePeak peak = TensorCorePeak.of(gpu.device());
        line("## Matrix multiply (tensor cores, f16 inputs, f32 accumulate)");
        line("");
        line(String.format(Locale.ROOT, "Card peak: %.1f TFLOP/s dense f16 (%s). Goal: %.0f%% of peak.", peak.tflops(),
                peak.source(), MATMUL_GOAL * 100));
        line("");
        line("| what | M (tokens) x N x K | ms | TFLOP/s | % of peak |");
        line("|---|---|---|---|---|");
        CudaEventTimer timer = new CudaEventTimer(gpu);
        double best = 0;
        for (int[] shape : new int[][] {{512, 12288, 4096}, {4096, 12288, 4096}, {4096, 4096, 12288}, {8192, 8192, 8192}}) {
            double tflops = gemmKernel(gpu, timer, shape[0], shape[1], shape[2], peak);
            best = Math.max(best, tflops);
        }
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_K}) {
            for (int tokens : new int[] {512, 2048}) {
                matmulOp(gpu, timer, type, tokens, 12288, 4096, peak);
            }
        }
        line("");
        line(String.format(Locale.ROOT, "Best GEMM kernel: %.1f TFLOP/s = %.0f%% of peak: goal of %.0f%% %s.", best,
                100 * best / peak.tflops(), MATMUL_GOAL * 100, best >= MATMUL_GOAL * peak.tflops() ? "MET" : "NOT MET"));
        line("");
    }

    /** The f16 GEMM kernel alone on random operands. */
    private double gemmKernel(CudaBackend gpu, CudaEventTimer timer, int m, int n, int k, TensorCorePeak peak) {
        CudaMemory memory = gpu.memory();
        long aBytes = 2L * m * k;
        long bBytes = 2L * n * k;
        long cBytes = 4L * m * n;
        CUdeviceptr a;
        CUdeviceptr b;
        CUdeviceptr c;
        synchronized (gpu) {
            gpu.current();
            a = memory.allocate(aBytes, CudaMemory.Use.SCRATCH, "benchmark A");
            b = memory.allocate(bBytes, CudaMemory.Use.SCRATCH, "benchmark B");
            c = memory.allocate(cBytes, CudaMemory.Use.SCRATCH, "benchmark C");
        }
        try {
            fillHalf(gpu, a, m, k, 81);
            fillHalf(gpu, b, n, k, 82);
            CudaFunction gemm = gpu.kernels().get("gemm_f16");
            Runnable launch = () -> {
                gpu.current();
                gemm.launch(gpu.stream(), CudaBackend.ceilDiv(n, 128), CudaBackend.ceilDiv(m, 128), 256, a, b, c, m, n,
                        k, k, k, n);
            };
            double ms = time(timer, launch);
            double tflops = 2.0 * m * n * k / (ms * 1e-3) / 1e12;
            line(String.format(Locale.ROOT, "| gemm_f16 kernel | %d x %d x %d | %.3f | %.1f | %.0f%% |", m, n, k, ms, tflops,
                    100 * tflops / peak.tflops()));
            return tflops;
        } finally {
            synchronized (gpu) {
                gpu.synchronize();
                memory.free(a, aBytes, CudaMemory.Use.SCRATCH);
                memory.free(b, bBytes, CudaMemory.Use.SCRATCH);
                memory.free(c, cBytes, CudaMemory.Use.SCRATCH);
                memory.releasePool();
            }
        }
    }

    /** Random f16 rows: random floats in [-1, 1) converted on the device. */
    private static void fillHalf(CudaBackend gpu, CUdeviceptr dst, int rows, int cols, long seed) {
        int rowsPerPiece = Math.max(1, (1 << 24) / cols);
        for (int r0 = 0; r0 < rows; r0 += rowsPerPiece) {
            int n = Math.min(rowsPerPiece, rows - r0);
            try (DeviceBuffer f = gpu.upload(GpuTests.randomFloats(n * cols, seed + r0, 1))) {
                synchronized (gpu) {
                    gpu.current();
                    CudaBuffer src = gpu.cuda(f);
                    gpu.kernels().get("f32_to_f16").launch(gpu.stream(), CudaBackend.grid((long) n * cols), 1, 256,
                            src.pointer(), n, cols, cols, dst.withByteOffset(2L * r0 * cols));
                }
            }
        }
    }

    /** The whole matmul op: dequantization of a quantized weight to f16 scratch, then the GEMM. */
    private void matmulOp(CudaBackend gpu, CudaEventTimer timer, GgmlType type, int tokens, int rows, int cols,
            TensorCorePeak peak) {
        try (WeightMatrix w = gpu.upload(GpuTests.randomTensor(type, cols, rows, 83));
                DeviceBuffer x = gpu.upload(GpuTests.randomFloats(tokens * cols, 84, 1));
                DeviceBuffer out = gpu.allocate(tokens * rows)) {
            double ms = time(timer, () -> gpu.matmul(w, x, tokens, out));
            double tflops = 2.0 * tokens * rows * cols / (ms * 1e-3) / 1e12;
            line(String.format(Locale.ROOT, "| matmul op, %s weight (dequantize + GEMM) | %d x %d x %d | %.3f | %.1f | %.0f%% |",
                    type, tokens, rows, cols, ms, tflops, 100 * tflops / peak.tflops()));
        }
    }

    private static double time(CudaEventTimer timer, Runnable work) {
        for (int i = 0; i < 2; i++) {
            timer.millis(work);
        }
        int repeats = 5;
        double total = 0;
        for (int i = 0; i < repeats; i++) {
            total += timer.millis(work);
        }
        return total / repeats;
    }

    // ---- dense prefill

    private void densePrefill(CudaBackend gpu) {
        int[] sizes = quick ? new int[] {4096, 16384} : new int[] {4096, 8192, 16384, 32768};
        int ctx = sizes[sizes.length - 1] + 1024;
        line("## Dense prefill (chunks of " + Transformer.DEFAULT_CHUNK_SIZE + " tokens)");
        line("");
        line("| model | tokens | seconds | tokens/s |");
        line("|---|---|---|---|");
        for (String model : new String[] {"synthetic:qwen3-0.6b?type=Q8_0", "synthetic:qwen3-8b?type=Q8_0",
                "synthetic:qwen3-8b?type=Q4_K"}) {
            String spec = model + "&ctx=" + ctx;
            try (ModelFile file = ModelSources.open(spec); Transformer t = Transformer.load(file, gpu)) {
                warmUp(t);
                for (int n : sizes) {
                    int[] tokens = new SplittableRandom(n).ints(n, 0, t.config().vocabSize()).toArray();
                    try (KvCache cache = t.newCache()) {
                        long t0 = System.nanoTime();
                        t.prefill(cache, tokens);
                        double s = (System.nanoTime() - t0) / 1e9;
                        line(String.format(Locale.ROOT, "| %s | %d | %.2f | %.0f |", model, n, s, n / s));
                    }
                }
            }
        }
        line("");
    }

    private static void warmUp(Transformer t) {
        int[] tokens = new SplittableRandom(1).ints(600, 0, t.config().vocabSize()).toArray();
        try (KvCache cache = t.newCache()) {
            t.prefill(cache, tokens);
        }
    }

    // ---- PFlash against dense

    private void pflashAgainstDense() {
        int[] sizes = quick ? new int[] {32768} : new int[] {32768, 65536, 131072};
        int ctx = sizes[sizes.length - 1] + 1024;
        String target = "synthetic:qwen3-8b?type=Q4_K_M&ctx=" + ctx;
        String drafter = "synthetic:qwen3-0.6b?type=Q8_0&ctx=" + ctx;
        double keep = 0.05;
        double[] dense = new double[sizes.length];
        try (LocalEngine engine = LocalEngine.open(new EngineConfig(target, null, "cuda", 0, null,
                CompressionSettings.off(), 0))) {
            ttft(engine, 2048);
            for (int i = 0; i < sizes.length; i++) {
                dense[i] = ttft(engine, sizes[i]).timings().ttftMs();
            }
        }
        line("## PFlash against dense time to first token");
        line("");
        line("Target " + target + ", drafter " + drafter + ", keep ratio " + keep + ", block threshold alpha "
                + CompressionSettings.defaults().alpha() + "; prompt = " + PREFIX_TOKENS + " prefix + body + "
                + SUFFIX_TOKENS + " suffix tokens, one token generated. Goal: PFlash " + PFLASH_GOAL
                + "x faster than dense at 128K.");
        line("");
        line("| prompt tokens | dense TTFT s | PFlash TTFT s | draft s | select s | target prefill s | kept body tokens | speedup |");
        line("|---|---|---|---|---|---|---|---|");
        CompressionSettings pflash = CompressionSettings.defaults().withMode(CompressionSettings.Mode.ALWAYS)
                .withKeepRatio(keep);
        try (LocalEngine engine = LocalEngine.open(new EngineConfig(target, drafter, "cuda", 0, null, pflash, 0))) {
            ttft(engine, 4096);
            for (int i = 0; i < sizes.length; i++) {
                EngineResult r = ttft(engine, sizes[i]);
                double speedup = dense[i] / r.timings().ttftMs();
                line(String.format(Locale.ROOT, "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %.1fx%s |", sizes[i],
                        dense[i] / 1e3, r.timings().ttftMs() / 1e3, r.timings().draftMs() / 1e3,
                        r.timings().selectMs() / 1e3, r.timings().targetPrefillMs() / 1e3, r.tokens().keptBody(),
                        speedup, sizes[i] == 131072 ? (speedup >= PFLASH_GOAL ? " (goal MET)" : " (goal NOT MET)") : ""));
            }
        }
        line("");
    }

    /** One prompt of {@code tokens} random tokens through the engine, one token generated. */
    private static EngineResult ttft(LocalEngine engine, int tokens) {
        SplittableRandom rnd = new SplittableRandom(tokens);
        int vocab = engine.target().config().vocabSize();
        int body = tokens - PREFIX_TOKENS - SUFFIX_TOKENS;
        Prompt p = new Prompt("bench-" + tokens, rnd.ints(PREFIX_TOKENS, 0, vocab).toArray(),
                rnd.ints(body, 0, vocab).toArray(), rnd.ints(SUFFIX_TOKENS, 0, vocab).toArray());
        return engine.generate(p, GenerationSettings.greedy(1));
    }

    private void line(String s) {
        lines.add(s);
        LOG.info(s);
    }
}
