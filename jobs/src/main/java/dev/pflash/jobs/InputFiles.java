package dev.pflash.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;

/** The job's input: the patterns the user gave, and how many files they match. */
final class InputFiles {
    private InputFiles() {
    }

    /** A local directory stands for every file below it; other patterns stay as given. */
    static List<String> patterns(List<String> input) {
        List<String> patterns = new ArrayList<>(input.size());
        for (String pattern : input) {
            String trimmed = pattern.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            boolean localDirectory = !trimmed.contains("://") && isDirectory(trimmed);
            patterns.add(localDirectory ? trimmed.replaceAll("/+$", "") + "/**" : trimmed);
        }
        if (patterns.isEmpty()) {
            throw new IllegalArgumentException("--input is empty; give a glob such as --input='corpus/**'");
        }
        return patterns;
    }

    /** Files (not directories) the patterns match, each counted once. */
    static long count(List<String> patterns) {
        Set<String> files = new HashSet<>();
        try {
            List<MatchResult> results = FileSystems.match(patterns, EmptyMatchTreatment.ALLOW);
            for (MatchResult result : results) {
                if (result.status() != MatchResult.Status.OK && result.status() != MatchResult.Status.NOT_FOUND) {
                    throw new IllegalArgumentException("--input: cannot list the files of the pattern (status "
                            + result.status() + ")");
                }
                if (result.status() == MatchResult.Status.OK) {
                    for (MatchResult.Metadata file : result.metadata()) {
                        if (!file.resourceId().isDirectory()) {
                            files.add(file.resourceId().toString());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--input=" + String.join(",", patterns) + ": cannot list files: "
                    + e.getMessage(), e);
        }
        return files.size();
    }

    private static boolean isDirectory(String path) {
        try {
            return Files.isDirectory(Path.of(path));
        } catch (RuntimeException e) {
            return false;
        }
    }
}
