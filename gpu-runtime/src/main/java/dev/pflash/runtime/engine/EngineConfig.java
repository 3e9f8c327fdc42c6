package dev.pflash.runtime.engine;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.model.KvCache;
import java.io.Serializable;
import java.util.Objects;

/**
 * Which engine to open: the target model (a GGUF path or a {@code synthetic:<preset>} name), the
 * drafter (same forms, or null for none), the backend ({@code auto}, {@code cpu} or {@code cuda}),
 * the CPU threads (0 = all cores), the system prompt the chat template puts first (null for
 * none), PFlash compression, the prefix KV cache's byte budget (0 switches it off), and how
 * the KV cache (and the prefix cache) stores keys and values. Equal configs share one engine per JVM.
 */
public record EngineConfig(String model, String drafter, String backend, int threads, String systemPrompt,
        CompressionSettings compression, long prefixCacheBytes, ElementType kvCacheType) implements Serializable {
    public EngineConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(compression, "compression");
        Objects.requireNonNull(kvCacheType, "kvCacheType");
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

    /** The KV cache in its default type ({@link KvCache#DEFAULT_TYPE}). */
    public EngineConfig(String model, String drafter, String backend, int threads, String systemPrompt,
            CompressionSettings compression, long prefixCacheBytes) {
        this(model, drafter, backend, threads, systemPrompt, compression, prefixCacheBytes, KvCache.DEFAULT_TYPE);
    }

    /** No compression, no prefix cache, the KV cache in its default type. */
    public EngineConfig(String model, String drafter, String backend, int threads, String systemPrompt) {
        this(model, drafter, backend, threads, systemPrompt, CompressionSettings.off(), 0L);
    }
}
