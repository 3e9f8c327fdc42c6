package dev.pflash.jobs;

import dev.pflash.pipeline.output.RunTotals;
import java.util.Locale;

/** The progress line the job logs while the pipeline runs. */
final class ProgressLine {
    private ProgressLine() {
    }

    static String of(RunTotals soFar, long filesMatched, double elapsedSeconds) {
        double rate = elapsedSeconds > 0 ? soFar.documents() / elapsedSeconds : 0;
        return String.format(Locale.ROOT, "%,d of %,d documents done (%,d ok, %,d failed), %.2f documents/s, %.0f s",
                soFar.documents(), filesMatched, soFar.documentsOk(), soFar.documentsFailed(), rate, elapsedSeconds);
    }
}
