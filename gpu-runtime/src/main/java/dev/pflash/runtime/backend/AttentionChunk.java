package dev.pflash.runtime.backend;

/**
 * One sequence's part of a packed attention call ({@link Backend#attention(java.util.List, AttentionShape)}):
 * {@code tokens} rows of queries in {@code q} attending over that sequence's cache, rows
 * {@code firstIndex ..} of which hold the chunk's own keys and values, into {@code tokens} rows
 * of {@code out}; the arguments of {@link Backend#attention(DeviceBuffer, DeviceBuffer, DeviceBuffer,
 * int, int, AttentionShape, DeviceBuffer)}.
 */
public record AttentionChunk(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex,
        DeviceBuffer out) {
}
