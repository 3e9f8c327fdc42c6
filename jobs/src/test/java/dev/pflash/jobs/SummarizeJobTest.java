package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summarize job end to end on the sample documents with the demo models. */
class SummarizeJobTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final Path DOCS = SAMPLE.resolve("docs");
    /** The small text formats: enough to compare two runs, cheap on the demo model. */
    private static final String INPUT = DOCS + "/*.html," + DOCS + "/*.md," + DOCS + "/*.eml," + DOCS + "/*.txt";

    @Test
    void sameSeedGivesTheSameSummariesAndTheManifestRecordsTheRun(@TempDir Path dir) throws Exception {
        RunSummary first = SummarizeJob.run(options(dir.resolve("first"), "first"));
        RunSummary second = SummarizeJob.run(options(dir.resolve("second"), "second"));

        long documents = countFiles(DOCS, ".html", ".md", ".eml", ".txt");
        assertThat(first.filesMatched()).isEqualTo(documents);
        assertThat(first.totals().documents()).isEqualTo(documents);
        Map<String, String> firstSummaries = summaries(dir.resolve("first"));
        assertThat(firstSummaries).hasSize((int) first.totals().documentsOk());
        assertThat(first.totals().documentsOk()).isPositive();
        assertThat(summaries(dir.resolve("second"))).isEqualTo(firstSummaries);
        assertThat(second.totals().generatedTokens()).isEqualTo(first.totals().generatedTokens());
        // these formats all extract, so the errors table is there, with its columns and no rows
        assertThat(first.totals().documentsFailed()).isZero();
        assertThat(dir.resolve("first/errors/errors-00000-of-00001.parquet")).exists();
        assertThat(rows(dir.resolve("first/errors"))).isEmpty();
        assertThat(dir.resolve("first/results/.temp-beam")).doesNotExist();

        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("first/manifest.json").toFile());
        assertThat(manifest.get("run_id").asText()).isEqualTo("first");
        assertThat(manifest.get("state").asText()).isEqualTo("DONE");
        assertThat(manifest.get("options").get("seed").asLong()).isEqualTo(7);
        assertThat(manifest.get("options").get("maxNewTokens").asInt()).isEqualTo(16);
        assertThat(manifest.get("models").get("target").asText()).isNotEmpty();
        assertThat(manifest.get("models").get("target_sha256").asText()).hasSize(64);
        assertThat(manifest.get("models").get("demo_models").asBoolean()).isTrue();
        assertThat(manifest.get("counts").get("files_matched").asLong()).isEqualTo(documents);
        assertThat(manifest.get("counts").get("documents_ok").asLong()).isEqualTo(first.totals().documentsOk());
        assertThat(manifest.get("counts").get("documents_failed").asLong())
                .isEqualTo(first.totals().documentsFailed());
        assertThat(manifest.get("counts").get("prompt_tokens").asLong()).isEqualTo(first.totals().promptTokens());
        assertThat(manifest.get("counts").get("ttft_p95_ms").asDouble())
                .isGreaterThanOrEqualTo(manifest.get("counts").get("ttft_p50_ms").asDouble());
        assertThat(first.table()).contains("documents ok", "TTFT p95", "documents/s");
    }

    private static SummarizeOptions options(Path output, String runId) {
        return SummarizeJob.parse(new String[] {
            "--input=" + INPUT,
            "--output=" + output,
            "--model=" + SAMPLE.resolve("models/demo-target.gguf"),
            "--drafter=" + SAMPLE.resolve("models/demo-drafter.gguf"),
            "--backend=cpu",
            "--max-new-tokens=16",
            "--temperature=0.8",
            "--seed=7",
            "--run-id=" + runId,
            "--progress-seconds=1"
        });
    }

    private static Map<String, String> summaries(Path output) throws IOException {
        Map<String, String> byDoc = new TreeMap<>();
        for (GenericRecord row : rows(output.resolve("results"))) {
            byDoc.put(row.get("doc_id").toString(), row.get("summary").toString());
        }
        return byDoc;
    }

    static List<GenericRecord> rows(Path table) throws IOException {
        List<GenericRecord> rows = new ArrayList<>();
        try (Stream<Path> files = Files.list(table)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".parquet")).toList()) {
                HadoopInputFile input =
                        HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
                try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(input).build()) {
                    for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                        rows.add(row);
                    }
                }
            }
        }
        return rows;
    }

    private static long countFiles(Path dir, String... extensions) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> Stream.of(extensions).anyMatch(e -> f.toString().endsWith(e))).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
