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
import dev.pflash.runtime.model.LogitsMode;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU benchmark of the self-test bundle: the matrix multiply's TFLOP/s beside the card's peak
 * (prefill GEMM) and its weight bandwidth at 1 and 8 tokens (decode), prefill tokens/s at 512, 4K
 * and 32K tokens, decode tokens/s for 1 and 8 sequences, and PFlash against dense time to first
 * token at 32K and 128K with the 0.6B drafter and the 8B target at keep ratio 0.05, all on
 * synthetic Qwen3 models. Writes {@code benchmark.md} into the folder given as {@code --out=DIR};
 * {@code --quick} leaves out the largest sizes (about 3 minutes on an H100-class card against
 * about 10). Goals (reported, not enforced): the prefill GEMM at 40% of peak or more, PFlash 8x
 * faster than dense prefill at 128K tokens.
 */
public final class GpuBenchmark {
    private static final Logger LOG = LoggerFactory.getLogger(GpuBenchmark.class);
    private static final double MATMUL_GOAL = 0.40;
    private static final double PFLASH_GOAL = 8.0;
    private static final int SUFFIX_TOKENS = 32;
    private static final int PREFIX_TOKENS = 256;
    private static final String TARGET = "synthetic:qwen3-8b?type=Q4_K_M";
    private static final String DRAFTER = "synthetic:qwen3-0.6b?type=Q8_0";
    private static final int DECODE_CONTEXT = 4096;
    private static final int DECODE_STEPS = 64;

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
        long t0 = System.nanoTime();
        b.run();
        b.line(String.format(Locale.ROOT, "Benchmark wall time: %.0f s.", (System.nanoTime() - t0) / 1e9));
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
            prefillAndDecode(gpu);
        }
        pflashAgainstDense();
    }

    // ---- matrix multiply

    private void matmul(CudaBackend gpu) {
        TensorCorePeak peak = TensorCorePeak.of(gpu.device());
        line("## Matrix multiply (the matmul op on device-resident weights and activations)");
        line("");
        line(String.format(Locale.ROOT, "Card peak: %.1f TFLOP/s dense f16 (%s). Goal for prefill: %.0f%% of peak.",
                peak.tflops(), peak.source(), MATMUL_GOAL * 100));
        line("");
        line("| weight | M (tokens) x N x K | ms | TFLOP/s | % of peak | weight GB/s |");
        line("|---|---|---|---|---|---|");
        CudaEventTimer timer = new CudaEventTimer(gpu);
        double best = 0;
        int[] prefillTokens = quick ? new int[] {512} : new int[] {512, 4096};
        for (GgmlType type : new GgmlType[] {GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K}) {
            try (WeightMatrix w = gpu.upload(GpuTests.randomTensor(type, 4096, 12288, 83))) {
                for (int tokens : prefillTokens) {
                    best = Math.max(best, matmulOp(gpu, timer, w, tokens, peak));
                }
                for (int tokens : new int[] {1, 8}) {
                    matmulOp(gpu, timer, w, tokens, peak);
                }
            }
        }
        line("");
        line(String.format(Locale.ROOT, "Best prefill matmul: %.1f TFLOP/s = %.0f%% of peak: goal of %.0f%% %s.", best,
                100 * best / peak.tflops(), MATMUL_GOAL * 100, best >= MATMUL_GOAL * peak.tflops() ? "MET" : "NOT MET"));
        line("");
    }

    /** The matmul op: tensor-core GEMM with in-kernel dequantization above 8 tokens, matvec_q up to 8. */
    private double matmulOp(CudaBackend gpu, CudaEventTimer timer, WeightMatrix w, int tokens, TensorCorePeak peak) {
        int rows = w.rows();
        int cols = w.cols();
        try (DeviceBuffer x = gpu.upload(GpuTests.randomFloats(tokens * cols, 84, 1));
                DeviceBuffer out = gpu.allocate(tokens * rows)) {
            double ms = time(timer, () -> gpu.matmul(w, x, tokens, out));
            double tflops = 2.0 * tokens * rows * cols / (ms * 1e-3) / 1e12;
            double gbs = w.bytes() / (ms * 1e-3) / 1e9;
            line(String.format(Locale.ROOT, "| %s | %d x %d x %d | %.3f | %.2f | %.0f%% | %.0f |", w.type(), tokens, rows,
                    cols, ms, tflops, 100 * tflops / peak.tflops(), gbs));
            return tflops;
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

    // ---- prefill and decode

    private void prefillAndDecode(CudaBackend gpu) {
        int[] sizes = quick ? new int[] {512, 4096} : new int[] {512, 4096, 32768};
        int ctx = Math.max(sizes[sizes.length - 1], DECODE_CONTEXT + DECODE_STEPS) + 1024;
        line("## Prefill (chunks of " + Transformer.DEFAULT_CHUNK_SIZE + " tokens) and decode");
        line("");
        line("| model | what | tokens | seconds | tokens/s |");
        line("|---|---|---|---|---|");
        String[] models = quick ? new String[] {TARGET} : new String[] {DRAFTER, TARGET};
        for (String model : models) {
            try (ModelFile file = ModelSources.open(model + "&ctx=" + ctx); Transformer t = Transformer.load(file, gpu)) {
                warmUp(t);
                for (int n : sizes) {
                    int[] tokens = new SplittableRandom(n).ints(n, 0, t.config().vocabSize()).toArray();
                    try (KvCache cache = t.newCache()) {
                        long t0 = System.nanoTime();
                        t.prefill(cache, tokens);
                        double s = (System.nanoTime() - t0) / 1e9;
                        line(String.format(Locale.ROOT, "| %s | prefill | %d | %.2f | %.0f |", model, n, s, n / s));
                    }
                }
                for (int sequences : new int[] {1, 8}) {
                    double s = decode(t, sequences);
                    line(String.format(Locale.ROOT, "| %s | decode, %d sequence%s at %d tokens of context | %d | %.2f | %.0f |",
                            model, sequences, sequences == 1 ? "" : "s", DECODE_CONTEXT, DECODE_STEPS * sequences, s,
                            DECODE_STEPS * sequences / s));
                }
            }
        }
        line("");
    }

    /** Seconds for DECODE_STEPS decode steps of {@code sequences} sequences packed into one forward per step. */
    private static double decode(Transformer t, int sequences) {
        List<KvCache> caches = new ArrayList<>();
        try {
            int[] prompt = new SplittableRandom(7).ints(DECODE_CONTEXT, 0, t.config().vocabSize()).toArray();
            for (int s = 0; s < sequences; s++) {
                KvCache cache = t.newCache();
                caches.add(cache);
                t.prefill(cache, prompt);
            }
            List<int[]> tokens = new ArrayList<>();
            List<int[]> positions = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int step = 0; step < DECODE_STEPS; step++) {
                tokens.clear();
                positions.clear();
                for (int s = 0; s < sequences; s++) {
                    tokens.add(new int[] {(step * 31 + s) % t.config().vocabSize()});
                    positions.add(new int[] {DECODE_CONTEXT + step});
                }
                t.forwardPacked(caches, tokens, positions, LogitsMode.LAST);
            }
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            caches.forEach(KvCache::close);
        }
    }

    private static void warmUp(Transformer t) {
        int[] tokens = new SplittableRandom(1).ints(600, 0, t.config().vocabSize()).toArray();
        try (KvCache cache = t.newCache()) {
            t.prefill(cache, tokens);
        }
    }

    // ---- PFlash against dense

    private void pflashAgainstDense() {
        int[] sizes = quick ? new int[] {32768} : new int[] {32768, 131072};
        int ctx = sizes[sizes.length - 1] + 1024;
        String target = TARGET + "&ctx=" + ctx;
        String drafter = DRAFTER + "&ctx=" + ctx;
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
