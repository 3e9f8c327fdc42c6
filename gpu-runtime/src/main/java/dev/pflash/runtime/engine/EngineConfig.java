package dev.pflash.runtime.engine;

import java.io.Serializable;
import java.util.Objects;

/**
 * Which engine to open: the target model (a GGUF path or a {@code synthetic:<preset>} name), the
 * drafter (same forms, or null for none), the backend ({@code auto}, {@code cpu} or {@code cuda}),
 * the CPU threads (0 = all cores), and the system prompt the chat template puts first (null for
 * none). Equal configs share one engine per JVM.
 */
public record EngineConfig(String model, String drafter, String backend, int threads, String systemPrompt)
        implements Serializable {
    public EngineConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(backend, "backend");
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
    }
}
