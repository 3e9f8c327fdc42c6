package dev.pflash.runtime.model;

/** Which logits a forward pass returns. */
public enum LogitsMode {
    /** Those of the last token: {@code vocab} floats (decode, first token after a prompt). */
    LAST,
    /**
     * Those of every token, token after token: {@code n * vocab} floats. Meant for scoring short
     * continuations (label tokens), not whole prompts: 512 tokens of a 151,936-token vocabulary
     * are 311 MB.
     */
    ALL,
    /** None: fill the KV cache only and skip the LM head (a prefix to be continued later). */
    NONE
}
