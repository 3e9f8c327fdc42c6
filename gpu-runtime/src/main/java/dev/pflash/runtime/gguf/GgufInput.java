package dev.pflash.runtime.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * Sequential little-endian reads of a GGUF header through a small window buffer, so that parsing
 * never maps or loads the whole file. Every read is checked against the file size first: a
 * truncated file gives a {@link GgufException} that says what was being read and where.
 */
final class GgufInput {
    private final String source;
    private final FileChannel channel;
    private final long fileSize;
    private final ByteBuffer window;
    /** File offset of {@code window}'s byte 0. */
    private long windowStart;
    private String context = "the header";

    GgufInput(String source, FileChannel channel, long fileSize, int windowBytes) {
        this.source = source;
        this.channel = channel;
        this.fileSize = fileSize;
        this.window = ByteBuffer.allocate(windowBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.window.flip();
    }

    /** What is being read, for truncation messages ("metadata key general.name"). */
    void context(String what) {
        this.context = what;
    }

    String context() {
        return context;
    }

    long position() {
        return windowStart + window.position();
    }

    /** Bytes between the read position and the end of the file. */
    long remaining() {
        return fileSize - position();
    }

    int u8() {
        need(1);
        return window.get() & 0xFF;
    }

    int u16() {
        need(2);
        return window.getShort() & 0xFFFF;
    }

    short i16() {
        need(2);
        return window.getShort();
    }

    byte i8() {
        need(1);
        return window.get();
    }

    int i32() {
        need(4);
        return window.getInt();
    }

    long u32() {
        return i32() & 0xFFFFFFFFL;
    }

    /** A uint64 or int64 as its 64 bits; callers compare unsigned where the format is unsigned. */
    long i64() {
        need(8);
        return window.getLong();
    }

    float f32() {
        need(4);
        return window.getFloat();
    }

    double f64() {
        need(8);
        return window.getDouble();
    }

    /** {@code n} bytes; the caller has checked {@code n} against {@link #remaining()}. */
    byte[] bytes(int n) {
        if (n > remaining()) {
            throw truncated(n);
        }
        byte[] out = new byte[n];
        int fromWindow = Math.min(n, window.remaining());
        window.get(out, 0, fromWindow);
        if (fromWindow == n) {
            return out;
        }
        long filePos = position();
        ByteBuffer rest = ByteBuffer.wrap(out, fromWindow, n - fromWindow);
        try {
            while (rest.hasRemaining()) {
                int r = channel.read(rest, filePos);
                if (r < 0) {
                    throw truncated(n);
                }
                filePos += r;
            }
        } catch (IOException e) {
            throw new GgufException(source, "cannot read " + context + " at offset " + position() + ": " + e, e);
        }
        windowStart = filePos;
        window.clear().flip();
        return out;
    }

    private GgufException truncated(long n) {
        return new GgufException(source, "file is truncated: " + context + " needs " + n + " bytes at offset "
                + position() + " but the file has " + fileSize + " bytes");
    }

    private void need(int n) {
        if (window.remaining() >= n) {
            return;
        }
        if (remaining() < n) {
            throw truncated(n);
        }
        windowStart += window.position();
        window.compact();
        long filePos = windowStart + window.position();
        try {
            while (window.hasRemaining()) {
                int r = channel.read(window, filePos);
                if (r <= 0) {
                    break;
                }
                filePos += r;
            }
        } catch (IOException e) {
            throw new GgufException(source, "cannot read " + context + " at offset " + filePos + ": " + e, e);
        }
        window.flip();
        if (window.remaining() < n) {
            throw truncated(n);
        }
    }
}
