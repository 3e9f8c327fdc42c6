package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.output.OutputLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDirectoryTest {
    @Test
    void aFreshDirectoryIsFine(@TempDir Path dir) {
        OutputDirectory.prepare(new OutputLayout(dir.resolve("new").toString(), 1, "SNAPPY"), false, false);

        assertThat(dir.resolve("new")).doesNotExist();
    }

    @Test
    void removesOnlyEmptyBeamTempFolders(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("results/.temp-beam"));
        Files.createDirectories(dir.resolve("errors/.temp-beam"));
        Files.writeString(dir.resolve("errors/.temp-beam/part"), "x");

        OutputDirectory.removeEmptyTempFolders(new OutputLayout(dir.toString(), 1, "SNAPPY"));

        assertThat(dir.resolve("results/.temp-beam")).doesNotExist();
        assertThat(dir.resolve("errors/.temp-beam/part")).exists();
    }

    @Test
    void refusesAnEarlierRunUnlessToldToOverwrite(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("results"));
        Files.writeString(dir.resolve("results/results-00000-of-00001.parquet"), "x");
        Files.writeString(dir.resolve("manifest.json"), "{}");
        Files.writeString(dir.resolve("notes.txt"), "mine");
        OutputLayout layout = new OutputLayout(dir.toString(), 1, "SNAPPY");

        assertThatThrownBy(() -> OutputDirectory.prepare(layout, false, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--output=" + dir + " already holds 2 files of an earlier run")
                .hasMessageEndingWith("choose another --output, pass --resume=true to add to them (skipping what is"
                        + " done) or --overwrite=true to replace them");

        OutputDirectory.prepare(layout, true, false);

        assertThat(dir.resolve("results/results-00000-of-00001.parquet")).doesNotExist();
        assertThat(dir.resolve("manifest.json")).doesNotExist();
        assertThat(dir.resolve("notes.txt")).hasContent("mine");
    }

    @Test
    void resumeKeepsTheEarlierTablesAndDeletesOnlyHalfWrittenPieces(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("results"));
        Files.writeString(dir.resolve("results/results-run1-a.parquet"), "x");
        Files.writeString(dir.resolve("results/.results-run1-b.parquet.inprogress"), "half");
        OutputLayout layout = new OutputLayout(dir.toString(), 1, "SNAPPY");

        OutputDirectory.prepare(layout, false, true);

        assertThat(dir.resolve("results/results-run1-a.parquet")).hasContent("x");
        assertThat(dir.resolve("results/.results-run1-b.parquet.inprogress")).doesNotExist();
        assertThatThrownBy(() -> OutputDirectory.prepare(layout, true, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--overwrite and --resume contradict each other: choose one");
    }
}
