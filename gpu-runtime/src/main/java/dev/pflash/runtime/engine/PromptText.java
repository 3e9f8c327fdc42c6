package dev.pflash.runtime.engine;

import java.util.Objects;

/**
 * A prompt as text in three segments: {@code prefix} is shared by many prompts (system prompt,
 * instructions; its KV is cached and reused), {@code body} is the document (the only part PFlash
 * may compress), {@code suffix} is the question (always kept; the drafter's tail queries come
 * from it). Chat-template framing is added by the engine when it tokenizes.
 */
public record PromptText(String prefix, String body, String suffix) {
    public PromptText {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(suffix, "suffix");
    }
}
