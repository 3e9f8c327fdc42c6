package dev.pflash.pipeline.flow;

import java.io.IOException;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * Every file each pattern matches; a pattern that matches nothing adds nothing. This is
 * {@code FileIO.matchAll()} without its reshuffle: that gives each file a random key, and the
 * Direct runner keeps a watermark hold for every key it has seen until the job ends, so memory
 * grew with the number of files. {@link AdmitFiles} spreads the files instead.
 */
public final class MatchPatterns extends DoFn<String, MatchResult.Metadata> {
    @ProcessElement
    public void process(@Element String pattern, OutputReceiver<MatchResult.Metadata> out) throws IOException {
        for (MatchResult.Metadata file : FileSystems.match(pattern, EmptyMatchTreatment.ALLOW).metadata()) {
            out.output(file);
        }
    }
}
