package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputFilesTest {
    @Test
    void aDirectoryStandsForEveryFileBelowIt(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("a/b"));
        Files.writeString(dir.resolve("top.txt"), "x");
        Files.writeString(dir.resolve("a/mid.txt"), "x");
        Files.writeString(dir.resolve("a/b/deep.txt"), "x");

        List<String> patterns = InputFiles.patterns(List.of(dir + "/"));

        assertThat(patterns).containsExactly(dir + "/**");
        assertThat(InputFiles.count(patterns)).isEqualTo(3);
    }

    @Test
    void globsStayAsGivenAndFilesMatchedTwiceCountOnce(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("one.txt"), "x");
        Files.writeString(dir.resolve("two.md"), "x");

        List<String> patterns = InputFiles.patterns(List.of(dir + "/*.txt", " " + dir + "/* "));

        assertThat(patterns).containsExactly(dir + "/*.txt", dir + "/*");
        assertThat(InputFiles.count(patterns)).isEqualTo(2);
    }

    @Test
    void aPatternThatMatchesNothingCountsZero(@TempDir Path dir) {
        assertThat(InputFiles.count(List.of(dir + "/*.pdf"))).isZero();
    }

    @Test
    void emptyInputIsRefused() {
        assertThatThrownBy(() -> InputFiles.patterns(List.of(" ")))
                .hasMessage("--input is empty; give a glob such as --input='corpus/**'");
    }
}
