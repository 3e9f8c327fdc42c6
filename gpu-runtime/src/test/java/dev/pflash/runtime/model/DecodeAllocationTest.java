package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * A decode step reuses the transformer's activations and the backend's scratch: after warm-up it
 * allocates its result (one vocabulary of logits) and small bookkeeping objects only, not
 * activation buffers: with new activations per call a step here allocated 71 KB (buffers for
 * 512-wide hidden states and 1536-wide feed-forward rows, and a second vocabulary of device
 * logits); with reused ones about 30 KB, half of it the logits.
 */
class DecodeAllocationTest {
    private static final TinyModel.Spec WIDE = new TinyModel.Spec("wide-qwen3", "qwen3", 2, 512, 1536, 8, 4, 64,
            4096, 400, 1_000_000f, 1e-6f, false, false, true);
    private static final int STEPS = 200;
    /**
     * Steps before the first measurement: C2 compiles the vector kernels in about this many on an
     * idle machine, and before that the Vector API runs its allocating Java fallbacks.
     */
    private static final int WARMUP_STEPS = 1500;
    /**
     * Measurements of {@link #STEPS} steps each before giving up: on a loaded machine the compiler
     * threads lag behind, so the steady state is taken as the first measurement under the bound.
     * A step that allocates for ever (a kernel left to a fallback, buffers made per call) fails.
     */
    private static final int MEASUREMENTS = 25;
    /** Bookkeeping per step (positions, chunk copies, op lambdas, attention's small objects); generous. */
    private static final long BOOKKEEPING_BYTES = 32 * 1024;

    @Test
    void aDecodeStepAllocatesLittleBeyondItsLogits() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        TinyModel model = TinyModel.of(WIDE, 50);
        try (CpuBackend backend = new CpuBackend(2); Transformer t = Transformer.load(model.file, backend)) {
            KvCache cache = t.newCache();
            int[] prompt = model.randomTokens(8, 51);
            t.prefill(cache, prompt);
            int token = 1;
            for (int i = 0; i < WARMUP_STEPS; i++) {
                if (cache.length() + STEPS >= WIDE.context()) {
                    cache.truncate(prompt.length);
                }
                token = step(t, cache, token);
            }
            long[] ids = threads.getAllThreadIds();
            long logits = 4L * WIDE.vocab() + 16;
            long perStep = Long.MAX_VALUE;
            for (int m = 0; m < MEASUREMENTS && perStep >= logits + BOOKKEEPING_BYTES; m++) {
                if (cache.length() + STEPS >= WIDE.context()) {
                    cache.truncate(prompt.length);
                }
                long before = sum(threads.getThreadAllocatedBytes(ids));
                for (int i = 0; i < STEPS; i++) {
                    token = step(t, cache, token);
                }
                perStep = (sum(threads.getThreadAllocatedBytes(ids)) - before) / STEPS;
            }
            assertThat(perStep).as("bytes allocated per decode step").isLessThan(logits + BOOKKEEPING_BYTES);
        }
    }

    private static int step(Transformer t, KvCache cache, int token) {
        float[] logits = t.forward(cache, new int[] {token}, cache.length(), LogitsMode.LAST);
        return Math.floorMod(Float.floatToRawIntBits(logits[0]), WIDE.vocab());
    }

    private static long sum(long[] bytes) {
        long s = 0;
        for (long b : bytes) {
            s += Math.max(0, b);
        }
        return s;
    }
}
