package dev.pflash.runtime.engine;

import java.util.Objects;

/**
 * A tokenized prompt, ready for the engine: the target model's token ids of each segment, chat
 * template framing included (the template's head is part of the prefix, its tail part of the
 * suffix). {@code id} is the caller's key for matching results to inputs.
 */
public record Prompt(String id, int[] prefixTokens, int[] bodyTokens, int[] suffixTokens) {
    public Prompt {
        Objects.requireNonNull(id, "id");
        prefixTokens = prefixTokens.clone();
        bodyTokens = bodyTokens.clone();
        suffixTokens = suffixTokens.clone();
    }

    public int length() {
        return prefixTokens.length + bodyTokens.length + suffixTokens.length;
    }

    /** prefix, body and suffix concatenated. */
    public int[] allTokens() {
        int[] all = new int[length()];
        System.arraycopy(prefixTokens, 0, all, 0, prefixTokens.length);
        System.arraycopy(bodyTokens, 0, all, prefixTokens.length, bodyTokens.length);
        System.arraycopy(suffixTokens, 0, all, prefixTokens.length + bodyTokens.length, suffixTokens.length);
        return all;
    }

    @Override
    public int[] prefixTokens() {
        return prefixTokens.clone();
    }

    @Override
    public int[] bodyTokens() {
        return bodyTokens.clone();
    }

    @Override
    public int[] suffixTokens() {
        return suffixTokens.clone();
    }
}
