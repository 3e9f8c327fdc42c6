package dev.pflash.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress lines of a benchmark: which configuration runs, how many of its documents are done,
 * and an estimate of the time left in all. The configuration running now is expected to take as
 * long as its pace so far says; each one still to come as long as the finished ones took on
 * average (or as the current one, before any has finished).
 */
final class BenchmarkProgress {
    private static final Logger LOG = LoggerFactory.getLogger(BenchmarkProgress.class);

    private final int configs;
    private final List<Double> finishedSeconds = new ArrayList<>();

    BenchmarkProgress(int configs) {
        this.configs = configs;
    }

    /** Where the progress of configuration {@code index} (from 0) goes: a line in the log. */
    DocumentJobs.Progress of(int index, String name) {
        return (soFar, files, elapsed) -> LOG.info("Benchmark: {}", line(index, name, soFar.documents(), files,
                elapsed));
    }

    void finished(double seconds) {
        finishedSeconds.add(seconds);
    }

    String line(int index, String name, long done, long files, double elapsedSeconds) {
        double mean = finishedSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double thisRun = done > 0 ? elapsedSeconds * files / done : mean;
        double each = finishedSeconds.isEmpty() ? thisRun : mean;
        double left = Math.max(0, thisRun - elapsedSeconds) + (configs - index - 1) * each;
        return String.format(Locale.ROOT, "configuration %d of %d (%s): %,d of %,d documents, %.2f documents/s, %s",
                index + 1, configs, name, done, files, elapsedSeconds > 0 ? done / elapsedSeconds : 0,
                Double.isNaN(left) ? "time left not known yet" : "about " + duration(left) + " left in all");
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return (s / 60) + " min " + (s % 60) + " s";
        }
        return (s / 3600) + " h " + (s % 3600 / 60) + " min";
    }
}
