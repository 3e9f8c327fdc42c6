package dev.pflash.pipeline.extract;

import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.util.HexFormat;

/**
 * Computes the SHA-256 and the length of everything read through it. Closing it leaves the
 * underlying stream open: parsers close what they are given, and the rest of the file must still
 * be read for the hash.
 */
final class HashingInputStream extends DigestInputStream {
    private static final int DRAIN_BUFFER_BYTES = 64 * 1024;

    private long bytesRead;

    HashingInputStream(InputStream in) {
        super(in, DocumentIds.sha256());
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            bytesRead++;
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = super.read(buffer, offset, length);
        if (n > 0) {
            bytesRead += n;
        }
        return n;
    }

    /** Skipped bytes are read, so that the hash and the count still see them. */
    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(DRAIN_BUFFER_BYTES, Math.max(n, 0))];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    /** Re-reading after reset would hash bytes twice; callers that need marks must buffer above this. */
    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public void close() {
        // the owner of the underlying stream closes it
    }

    /** Reads what the parser left unread, so that hash and length cover the whole file. */
    void drain() throws IOException {
        byte[] buffer = new byte[DRAIN_BUFFER_BYTES];
        while (read(buffer, 0, buffer.length) >= 0) {
            // reading is the point: the digest and the count see the bytes
        }
    }

    long bytesRead() {
        return bytesRead;
    }

    /** The hash of the bytes read so far; call once, after {@link #drain()}. */
    String sha256Hex() {
        return HexFormat.of().formatHex(getMessageDigest().digest());
    }
}
