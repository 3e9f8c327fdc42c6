package dev.pflash.runtime.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Memory for synthetic weights: regions of a deleted temporary file mapped read-write. Mapped
 * memory is not limited by the JVM's heap or direct-memory settings, so an 8B-parameter synthetic
 * model (9 GB in Q8_0) loads with default JVM options; the kernel pages it like any file.
 */
final class ScratchFileArena implements AutoCloseable {
    /** Largest single mapping; tensors above it are split into several mappings of whole rows. */
    static final long MAX_PIECE_BYTES = 1L << 30;

    private final FileChannel channel;
    private long used;

    ScratchFileArena() {
        try {
            Path file = Files.createTempFile("pflash-synthetic-", ".weights");
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            // Linux keeps the pages reachable through the mappings; the name is not needed.
            Files.delete(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a scratch file for synthetic weights in "
                    + System.getProperty("java.io.tmpdir"), e);
        }
    }

    /** Rows per mapping for a tensor of {@code rowBytes}-byte rows. */
    static long rowsPerPiece(long rowBytes, long rows) {
        return Math.max(1, Math.min(rows, MAX_PIECE_BYTES / rowBytes));
    }

    /** Maps {@code bytes} fresh bytes (zero-filled), little-endian. */
    ByteBuffer allocate(long bytes) {
        try {
            ByteBuffer b = channel.map(FileChannel.MapMode.READ_WRITE, used, bytes).order(ByteOrder.LITTLE_ENDIAN);
            // Keep every region 64-byte aligned for the kernels' benefit.
            used += (bytes + 63) & ~63L;
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + bytes + " bytes of scratch memory for synthetic weights", e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
