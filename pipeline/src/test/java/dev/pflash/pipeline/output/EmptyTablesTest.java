package dev.pflash.pipeline.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.ParquetTables;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmptyTablesTest {
    @Test
    void aTableWithoutFilesGetsAnEmptyReadableOne(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("results"));
        Files.writeString(dir.resolve("results/results-00000-of-00001.parquet"), "not touched");

        EmptyTables.fill(new OutputLayout(dir.toString(), 1, "SNAPPY"));

        assertThat(dir.resolve("results/results-00000-of-00001.parquet")).hasContent("not touched");
        Path errors = dir.resolve("errors/errors-00000-of-00001.parquet");
        assertThat(ParquetTables.rows(dir.resolve("errors"))).isEmpty();
        assertThat(ParquetTables.columns(errors)).containsExactly("run_id", "doc_id", "uri", "sha256",
                "settings_sha256", "stage", "error_class", "message", "time_epoch_ms");
        assertThat(ParquetTables.columns(dir.resolve("timings/timings-00000-of-00001.parquet")))
                .startsWith("run_id", "doc_id", "uri", "extract_ms");
    }
}
