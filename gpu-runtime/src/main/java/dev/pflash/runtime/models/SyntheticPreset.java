package dev.pflash.runtime.models;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shapes of a real model (or of a small CPU-friendly stand-in), from which a synthetic model
 * with random weights is built. The cost of a forward pass depends only on these shapes and the
 * tensor types, not on the weight values, so throughput measured on a synthetic model is the real
 * model's. Numbers for the Qwen3 presets: GGUF-QWEN3.md section 6.
 */
public record SyntheticPreset(String name, int layers, int embedding, int feedForward, int heads, int kvHeads,
        int headDim, int vocab, int contextLength, boolean tiedOutput, Hybrid hybrid) {

    /**
     * The qwen35 part of a hybrid preset (QWEN35-HYBRID.md): full attention every
     * {@code interval}-th layer rotating {@code ropeDims} of each head, Gated DeltaNet elsewhere.
     */
    public record Hybrid(int interval, int ropeDims, int keyHeads, int valueHeads, int keyDim, int valueDim,
            int convKernel) {
        int channels() {
            return 2 * keyHeads * keyDim + valueHeads * valueDim;
        }
    }

    /** A dense (qwen3) preset. */
    public SyntheticPreset(String name, int layers, int embedding, int feedForward, int heads, int kvHeads,
            int headDim, int vocab, int contextLength, boolean tiedOutput) {
        this(name, layers, embedding, feedForward, heads, kvHeads, headDim, vocab, contextLength, tiedOutput, null);
    }

    public boolean isHybrid() {
        return hybrid != null;
    }

    private static final Map<String, SyntheticPreset> PRESETS = new LinkedHashMap<>();

    static {
        add(new SyntheticPreset("qwen3-0.6b", 28, 1024, 3072, 16, 8, 128, 151936, 40960, true));
        add(new SyntheticPreset("qwen3-1.7b", 28, 2048, 6144, 16, 8, 128, 151936, 40960, true));
        add(new SyntheticPreset("qwen3-4b", 36, 2560, 9728, 32, 8, 128, 151936, 40960, true));
        add(new SyntheticPreset("qwen3-8b", 36, 4096, 12288, 32, 8, 128, 151936, 40960, false));
        // A target/drafter pair small enough that a dense 32K-token prefill of the target takes
        // minutes on 2 CPU cores. The drafter is a fraction of the target, as in the real pair: per
        // token, about 1/15 of its matrix work and 1/8 of its attention (PFlash's drafter attends in
        // its first layer only: its last layer just makes keys for scoring). Every matrix width is a
        // multiple of 256, so that the K-quant types apply.
        add(new SyntheticPreset("cpu-target", 4, 512, 1536, 8, 4, 64, 32768, 131072, false));
        add(new SyntheticPreset("cpu-drafter", 2, 256, 768, 4, 2, 64, 32768, 131072, true));
        // Qwen3.6-27B (same shapes as Qwen3.5-27B): 48 DeltaNet and 16 gated attention layers.
        add(new SyntheticPreset("qwen3.6-27b", 64, 5120, 17408, 24, 4, 256, 248320, 262144, false,
                new Hybrid(4, 64, 16, 48, 128, 128, 4)));
        // A CPU-sized hybrid with the 27B's proportions (3 DeltaNet layers to 1 attention, a quarter
        // of each head rotated, 2 value heads per key head); the vocabulary of cpu-drafter, so the
        // pair shares token ids.
        add(new SyntheticPreset("qwen35-small", 8, 512, 1536, 4, 2, 128, 32768, 131072, false,
                new Hybrid(4, 32, 4, 8, 64, 64, 4)));
    }

    private static void add(SyntheticPreset p) {
        PRESETS.put(p.name(), p);
    }

    /** The preset of this name, or null. */
    public static SyntheticPreset find(String name) {
        return PRESETS.get(name);
    }

    public static Iterable<String> names() {
        return PRESETS.keySet();
    }
}
