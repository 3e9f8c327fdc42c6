package dev.pflash.pipeline.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.ParquetTables;
import dev.pflash.schemas.DocumentError;
import dev.pflash.schemas.DocumentTimings;
import dev.pflash.schemas.KeySpanRecord;
import dev.pflash.schemas.SummaryResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Runs on Beam's TestPipeline, whose JUnit 4 rule checks that the pipeline ran. */
public class WriteResultsTest {
    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();
    @Rule
    public final transient TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void writesThreeParquetTablesAndCountsTheirRows() throws Exception {
        Path out = folder.getRoot().toPath();
        // One row a piece: every row is committed as a file of its own, stamped with the settings.
        OutputLayout layout = new OutputLayout(out.toString(), 1, "snappy", 1, 60, "settings-1");
        List<SummaryResult> results = List.of(result("a", 10.0, 100, 7), result("b", 30.0, 50, 3));

        PCollectionTuple tables = PCollectionTuple
                .of(OutputTables.RESULTS, pipeline.apply("Results",
                        Create.of(results).withCoder(AvroCoder.of(SummaryResult.class))))
                .and(OutputTables.TIMINGS, pipeline.apply("Timings",
                        Create.of(timings("a"), timings("b")).withCoder(AvroCoder.of(DocumentTimings.class))))
                .and(OutputTables.ERRORS, pipeline.apply("Errors",
                        Create.of(error("c")).withCoder(AvroCoder.of(DocumentError.class))));
        tables.apply(new WriteResults(layout, "run"));
        PipelineResult run = pipeline.run();
        run.waitUntilFinish();

        assertThat(ParquetTables.files(out.resolve("results"))).hasSize(2).allSatisfy(file ->
                assertThat(file.getFileName().toString()).matches("results-run-[0-9a-f-]{13}\\.parquet"));
        try (var left = Files.list(out.resolve("results"))) {
            assertThat(left.filter(f -> f.toString().endsWith(CommitTable.IN_PROGRESS))).isEmpty();
        }
        List<GenericRecord> resultRows = ParquetTables.rows(out.resolve("results"));
        assertThat(resultRows).extracting(r -> r.get("settings_sha256").toString()).containsOnly("settings-1");
        assertThat(ParquetTables.rows(out.resolve("errors"))).extracting(r -> r.get("settings_sha256").toString())
                .containsOnly("settings-1");
        assertThat(resultRows).extracting(r -> r.get("doc_id").toString()).containsExactlyInAnyOrder("a", "b");
        assertThat(ParquetTables.columns(ParquetTables.files(out.resolve("results")).get(0)))
                .startsWith("run_id", "doc_id", "uri", "sha256")
                .contains("summary", "prompt_tokens", "generated_tokens", "kept_tokens", "prefix_tokens_reused",
                        "key_spans", "ttft_ms", "fit_strategy", "windows");
        GenericRecord a = resultRows.stream().filter(r -> r.get("doc_id").toString().equals("a")).findFirst()
                .orElseThrow();
        assertThat(a.get("summary").toString()).isEqualTo("summary of a");
        assertThat(a.get("title")).isNull();
        assertThat((List<?>) a.get("key_spans")).hasSize(1);

        List<GenericRecord> timingRows = ParquetTables.rows(out.resolve("timings"));
        assertThat(timingRows).extracting(r -> r.get("doc_id").toString()).containsExactlyInAnyOrder("a", "b");
        assertThat(timingRows).extracting(r -> r.get("decode_ms")).containsOnly(20.0);

        List<GenericRecord> errorRows = ParquetTables.rows(out.resolve("errors"));
        assertThat(errorRows).singleElement().satisfies(e -> {
            assertThat(e.get("uri").toString()).isEqualTo("file:///c");
            assertThat(e.get("stage").toString()).isEqualTo("extract");
        });

        RunTotals totals = RunMetrics.totals(run.metrics());
        assertThat(totals).isEqualTo(new RunTotals(2, 1, Map.of("extract", 1L), 150, 10, 10.0, 30.0));
    }

    private static SummaryResult result(String id, double ttftMs, int promptTokens, int generatedTokens) {
        return SummaryResult.newBuilder()
                .setRunId("run").setDocId(id).setUri("file:///" + id).setSha256("00").setContentType("text/plain")
                .setTitle(null).setAuthor(null).setLanguage(null).setPageCount(null)
                .setSizeBytes(10).setChars(10).setTextTruncated(false)
                .setPromptTokens(promptTokens).setPrefixTokens(5).setBodyTokens(promptTokens - 10).setSuffixTokens(5)
                .setKeptTokens(promptTokens - 10).setPrefixTokensReused(0).setGeneratedTokens(generatedTokens)
                .setKeySpans(List.of(new KeySpanRecord(0, 4, 1f)))
                .setSummary("summary of " + id).setFinishReason("STOP").setFitStrategy("none").setWindows(1)
                .setTargetModel("t").setTargetSha256("").setDrafterModel(null).setDrafterSha256(null)
                .setBackend("cpu").setDemoModels(true).setTtftMs(ttftMs)
                .build();
    }

    private static DocumentTimings timings(String id) {
        return DocumentTimings.newBuilder()
                .setRunId("run").setDocId(id).setUri("file:///" + id)
                .setExtractMs(1).setTokenizeMs(2).setPrefixLookupMs(0).setDraftMs(0).setSelectMs(0)
                .setTargetPrefillMs(5).setTtftMs(6).setDecodeMs(20).setGeneratedTokens(3).setDecodeTokensPerS(100)
                .setPrefilledTokens(90).setEngineCalls(1).setBatchSize(2)
                .build();
    }

    private static DocumentError error(String id) {
        return ErrorRows.of("run", null, "file:///" + id, "extract", "org.apache.tika.exception.TikaException",
                "c: corrupt", 1_700_000_000_000L);
    }
}
