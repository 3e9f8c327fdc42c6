package dev.pflash.jobs;

import dev.pflash.pipeline.output.CommitTable;
import dev.pflash.pipeline.output.OutputLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Keeps runs apart: table files of an earlier run left in the output directory would be read
 * together with the new ones, so the job refuses to start over them unless asked to replace
 * them.
 */
final class OutputDirectory {
    static final String BEAM_TEMP = ".temp-beam";

    private OutputDirectory() {
    }

    /** Table files and the manifest of an earlier run in the layout's directory. */
    static List<ResourceId> earlierRun(OutputLayout layout) {
        List<String> patterns = List.of(
                layout.tableDirectory(OutputLayout.RESULTS) + "/*",
                layout.tableDirectory(OutputLayout.TIMINGS) + "/*",
                layout.tableDirectory(OutputLayout.ERRORS) + "/*",
                layout.manifestPath());
        List<ResourceId> found = new ArrayList<>();
        try {
            for (MatchResult result : FileSystems.match(patterns, EmptyMatchTreatment.ALLOW)) {
                if (result.status() == MatchResult.Status.OK) {
                    for (MatchResult.Metadata file : result.metadata()) {
                        if (!file.resourceId().isDirectory()) {
                            found.add(file.resourceId());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(layout.directory() + ": cannot list the output directory: "
                    + e.getMessage(), e);
        }
        return found;
    }

    /**
     * Removes the empty temporary folders ({@value #BEAM_TEMP}) that Beam's file writes leave in
     * each local table folder once their files are renamed into place.
     */
    static void removeEmptyTempFolders(OutputLayout layout) {
        if (layout.directory().contains("://")) {
            return;
        }
        for (String table : List.of(OutputLayout.RESULTS, OutputLayout.TIMINGS, OutputLayout.ERRORS)) {
            try {
                Files.delete(Path.of(layout.tableDirectory(table), BEAM_TEMP));
            } catch (NoSuchFileException | DirectoryNotEmptyException e) {
                // nothing to tidy, or Beam still has files there: leave them
            } catch (IOException e) {
                throw new UncheckedIOException(layout.tableDirectory(table) + ": cannot remove " + BEAM_TEMP + ": "
                        + e.getMessage(), e);
            }
        }
    }

    /**
     * Refuses an output directory that holds an earlier run, or deletes that run when
     * {@code overwrite}; with {@code resume} keeps the earlier run's tables and deletes only the
     * pieces a killed run left half-written.
     */
    static void prepare(OutputLayout layout, boolean overwrite, boolean resume) {
        if (overwrite && resume) {
            throw new IllegalArgumentException("--overwrite and --resume contradict each other: choose one");
        }
        List<ResourceId> earlier = earlierRun(layout);
        if (earlier.isEmpty()) {
            return;
        }
        if (resume) {
            delete(layout, earlier.stream().filter(f -> f.getFilename().endsWith(CommitTable.IN_PROGRESS)).toList());
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("--output=" + layout.directory() + " already holds " + earlier.size()
                    + " files of an earlier run (for example " + earlier.get(0)
                    + "); choose another --output, pass --resume=true to add to them (skipping what is done) or"
                    + " --overwrite=true to replace them");
        }
        delete(layout, earlier);
    }

    private static void delete(OutputLayout layout, List<ResourceId> files) {
        try {
            FileSystems.delete(files, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
        } catch (IOException e) {
            throw new UncheckedIOException(layout.directory() + ": cannot delete the earlier run's files: "
                    + e.getMessage(), e);
        }
    }
}
