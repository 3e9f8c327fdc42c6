package dev.pflash.pipeline.resume;

import dev.pflash.pipeline.extract.FileHashes;
import dev.pflash.pipeline.output.RunMetrics;
import java.util.EnumMap;
import java.util.Map;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * Drops the files whose content (SHA-256 of their bytes) already has a row for this run's
 * settings ({@link DoneDocuments}); a renamed but unchanged file is recognized by its content.
 * Reads each file once to hash it, only when there is something to skip; a file that cannot be
 * read runs, and extraction reports why.
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
        String sha256 = FileHashes.sha256(file);
        SkipReason reason = sha256 == null ? null : done.reasonToSkip(sha256);
        if (reason == null) {
            out.output(file);
        } else {
            skipped.get(reason).inc();
        }
    }
}
