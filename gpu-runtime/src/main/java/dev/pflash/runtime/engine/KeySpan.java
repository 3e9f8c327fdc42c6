package dev.pflash.runtime.engine;

/**
 * A kept run of body tokens, {@code [start, end)} in body token positions, with its mean score.
 */
public record KeySpan(int start, int end, float score) {
}
