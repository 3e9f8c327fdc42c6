package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.RopeStyle;
import dev.pflash.runtime.gguf.GgufException;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The decoder-only architectures this runtime runs, by their GGUF {@code general.architecture} name. */
public enum Architecture {
    /** Qwen3: per-head RMSNorm of q and k before NEOX RoPE, no biases. */
    QWEN3("qwen3", RopeStyle.NEOX, true),
    /** Llama 2/3: adjacent-pair RoPE on converter-permuted q/k rows, optional rope_freqs divisors. */
    LLAMA("llama", RopeStyle.ADJACENT_PAIRS, false),
    /** Qwen2/2.5: q/k/v biases, NEOX RoPE. */
    QWEN2("qwen2", RopeStyle.NEOX, false),
    /** Qwen3.5/3.6 hybrid: Gated DeltaNet layers and gated attention with partial NEOX rotary (QWEN35-HYBRID.md). */
    QWEN35("qwen35", RopeStyle.NEOX, true);

    private final String key;
    private final RopeStyle ropeStyle;
    private final boolean qkNorm;

    Architecture(String key, RopeStyle ropeStyle, boolean qkNorm) {
        this.key = key;
        this.ropeStyle = ropeStyle;
        this.qkNorm = qkNorm;
    }

    /** The GGUF name, also the prefix of the architecture's metadata keys. */
    public String key() {
        return key;
    }

    public RopeStyle ropeStyle() {
        return ropeStyle;
    }

    /** Whether each q and k head is RMS-normed (with attn_q_norm / attn_k_norm) before RoPE. */
    public boolean qkNorm() {
        return qkNorm;
    }

    /** The architecture named {@code name} in file {@code source}. */
    public static Architecture fromKey(String source, String name) {
        for (Architecture a : values()) {
            if (a.key.equals(name)) {
                return a;
            }
        }
        throw new GgufException(source, "unsupported architecture " + name + "; supported: "
                + Arrays.stream(values()).map(Architecture::key).collect(Collectors.joining(", ")));
    }
}
