package dev.pflash.pipeline.extract;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import org.apache.beam.sdk.io.FileIO;

/** The SHA-256 of a file's bytes, as every row that names the file gives it. */
public final class FileHashes {
    private FileHashes() {
    }

    /** Lower-case hex SHA-256 of the file's bytes; null when the file cannot be read. */
    public static String sha256(FileIO.ReadableFile file) {
        try (InputStream raw = Channels.newInputStream(file.open())) {
            HashingInputStream content = new HashingInputStream(raw);
            content.drain();
            return content.sha256Hex();
        } catch (IOException e) {
            return null;
        }
    }
}
