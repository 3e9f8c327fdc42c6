package dev.pflash.runtime.engine;

import java.io.Serializable;
import java.util.Objects;

/**
 * Which engine to open: the target model (a GGUF path or a {@code synthetic:<preset>} name), the
 * drafter (same forms, or null for none), the backend ({@code auto}, {@code cpu} or {@code cuda}),
 * the CPU threads (0 = all cores), the system prompt the chat template puts first (null for
 * none), PFlash compression, and the prefix KV cache's byte budget (0 switches it off). Equal
 * configs share one engine per JVM.
 */
public record EngineConfig(String model, String drafter, String backend, int threads, String systemPrompt,
        CompressionSettings compression, long prefixCacheBytes) implements Serializable {
    public EngineConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(compression, "compression");
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
        if (prefixCacheBytes < 0) {
            throw new IllegalArgumentException("prefix cache bytes must be >= 0, got " + prefixCacheBytes);
        }
        if (compression.mode() != CompressionSettings.Mode.OFF && drafter == null) {
            throw new IllegalArgumentException("prefill compression " + compression.mode().name().toLowerCase(
                    java.util.Locale.ROOT) + " needs a drafter model; give one or switch compression off");
        }
    }

    /** No compression and no prefix cache. */
    public EngineConfig(String model, String drafter, String backend, int threads, String systemPrompt) {
        this(model, drafter, backend, threads, systemPrompt, CompressionSettings.off(), 0L);
    }
}
