package dev.pflash.pipeline.resume;

import dev.pflash.pipeline.output.RunMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * Drops the files whose content (SHA-256 of their bytes) already has a row for this run's
 * settings ({@link DoneDocuments}); a renamed but unchanged file is recognized by its content.
 * Reads each file once to hash it, only when there is something to skip.
 */
public final class SkipDoneFiles extends DoFn<FileIO.ReadableFile, FileIO.ReadableFile> {
    private final DoneDocuments done;
    private final Map<SkipReason, Counter> skipped = new EnumMap<>(SkipReason.class);

    public SkipDoneFiles(DoneDocuments done) {
        this.done = done;
        for (SkipReason reason : SkipReason.values()) {
            skipped.put(reason, Metrics.counter(RunMetrics.NAMESPACE, reason.counter()));
        }
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, OutputReceiver<FileIO.ReadableFile> out) {
        if (done.isEmpty()) {
            out.output(file);
            return;
        }
        String sha256 = sha256(file);
        SkipReason reason = sha256 == null ? null : done.reasonToSkip(sha256);
        if (reason == null) {
            out.output(file);
        } else {
            skipped.get(reason).inc();
        }
    }

    /** The file's SHA-256; null when it cannot be read (then it runs, and extraction reports why). */
    private static String sha256(FileIO.ReadableFile file) {
        try (InputStream in = Channels.newInputStream(file.open())) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[64 * 1024];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
