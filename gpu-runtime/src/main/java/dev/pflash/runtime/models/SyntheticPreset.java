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
        int headDim, int vocab, int contextLength, boolean tiedOutput) {

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
