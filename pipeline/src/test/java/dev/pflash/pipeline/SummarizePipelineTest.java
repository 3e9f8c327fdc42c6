package dev.pflash.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.flow.DocumentFlowOptions;
import dev.pflash.pipeline.flow.DocumentsInFlight;
import dev.pflash.pipeline.generate.DecodeSettings;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.Engines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.testing.TestPipeline;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The whole job on {@code sample-data/} (good documents and bad inputs) with the demo models, on
 * Beam's TestPipeline, letting in only a few documents at a time; the tables are read back with
 * parquet-avro's reader.
 */
public class SummarizePipelineTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final int MAX_NEW_TOKENS = 16;
    /** Small enough that the longest sample documents are split into windows. */
    private static final int CONTEXT_TOKENS = 1024;
    /**
     * Fewer than the sample files, so that files wait to be let in; not so few that batches must
     * wait for {@code GroupPrompts.MAX_WAIT} to leave part-full.
     */
    private static final int IN_FLIGHT = 8;

    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();
    @Rule
    public final transient TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void everyFileEndsAsOneResultRowOrOneErrorRow() throws IOException {
        Path out = folder.getRoot().toPath();
        EngineConfig engine = new EngineConfig(SAMPLE.resolve("models/demo-target.gguf").toString(),
                SAMPLE.resolve("models/demo-drafter.gguf").toString(), "cpu", 0, null);
        SummarizeConfig config = new SummarizeConfig("test-run",
                List.of(SAMPLE.resolve("docs") + "/**", SAMPLE.resolve("bad") + "/**", SAMPLE.resolve("docs") + "/*"),
                ExtractionLimits.defaults(), PromptTemplate.defaultSummary(), engine, Engines::open,
                new DecodeSettings(MAX_NEW_TOKENS, 0.7f, 20, 0.8f, 42), 4096, CONTEXT_TOKENS,
                new OutputLayout(out.toString(), 1, "SNAPPY"));

        pipeline.getOptions().as(DocumentFlowOptions.class).setDocumentsInFlight(IN_FLIGHT);
        pipeline.apply(new SummarizePipeline(config));
        pipeline.run().waitUntilFinish();

        assertThat(DocumentsInFlight.peak("test-run")).isBetween(1L, (long) IN_FLIGHT);
        assertThat(DocumentsInFlight.now("test-run")).as("documents let in that never became a row").isZero();

        List<String> good = uris(SAMPLE.resolve("docs"), name -> true);
        List<String> bad = uris(SAMPLE.resolve("bad"), name -> !name.endsWith(".md"));
        List<String> badNotes = uris(SAMPLE.resolve("bad"), name -> name.endsWith(".md"));
        List<GenericRecord> results = ParquetTables.rows(out.resolve("results"));
        List<GenericRecord> timings = ParquetTables.rows(out.resolve("timings"));
        List<GenericRecord> errors = ParquetTables.rows(out.resolve("errors"));

        assertThat(results.size() + errors.size()).isEqualTo(good.size() + bad.size() + badNotes.size());
        assertThat(results).extracting(r -> r.get("uri").toString())
                .containsExactlyInAnyOrderElementsOf(concat(good, badNotes));
        assertThat(errors).extracting(e -> e.get("uri").toString()).containsExactlyInAnyOrderElementsOf(bad);
        assertThat(errors).allSatisfy(e -> {
            assertThat(e.get("stage").toString()).isEqualTo("extract");
            assertThat(e.get("run_id").toString()).isEqualTo("test-run");
            assertThat(e.get("error_class").toString()).isNotBlank();
            assertThat(e.get("message").toString()).isNotBlank();
            assertThat((Long) e.get("time_epoch_ms")).isPositive();
        });

        assertThat(ParquetTables.columns(ParquetTables.files(out.resolve("results")).get(0))).contains("doc_id",
                "uri", "sha256", "content_type", "title", "chars", "summary", "prompt_tokens", "generated_tokens",
                "kept_tokens", "prefix_tokens_reused", "key_spans", "ttft_ms", "target_model", "backend", "run_id",
                "fit_strategy", "windows");
        assertThat(results).allSatisfy(r -> {
            assertThat(r.get("doc_id").toString()).hasSize(16);
            assertThat(r.get("sha256").toString()).hasSize(64);
            assertThat(r.get("content_type").toString()).isNotBlank();
            assertThat((Long) r.get("chars")).isPositive();
            assertThat(r.get("summary")).isNotNull();
            int promptTokens = (Integer) r.get("prompt_tokens");
            int bodyTokens = (Integer) r.get("body_tokens");
            assertThat(promptTokens).isEqualTo((Integer) r.get("prefix_tokens") + bodyTokens
                    + (Integer) r.get("suffix_tokens"));
            assertThat((Integer) r.get("generated_tokens")).isBetween(0, MAX_NEW_TOKENS);
            assertThat((Integer) r.get("kept_tokens")).isEqualTo(bodyTokens);
            // Without a prefix cache, only a batch shares its prefix (computed once): whole prefixes.
            assertThat((Integer) r.get("prefix_tokens_reused") % (Integer) r.get("prefix_tokens")).isZero();
            assertThat((List<?>) r.get("key_spans")).isEmpty();
            assertThat((Double) r.get("ttft_ms")).isPositive();
            assertThat(r.get("backend").toString()).isEqualTo("cpu");
            assertThat(r.get("target_model").toString()).isNotBlank();
            assertThat((Boolean) r.get("demo_models")).isTrue();
            boolean fits = promptTokens + MAX_NEW_TOKENS <= CONTEXT_TOKENS;
            assertThat(r.get("fit_strategy").toString()).isEqualTo(fits ? "none" : "split");
            assertThat((Integer) r.get("windows")).matches(w -> fits ? w == 1 : w > 1, "windows of a split document");
        });
        assertThat(results).extracting(r -> r.get("fit_strategy").toString()).contains("none", "split");

        Map<String, GenericRecord> timingByDoc = timings.stream()
                .collect(Collectors.toMap(t -> t.get("doc_id").toString(), Function.identity()));
        assertThat(timingByDoc.keySet())
                .isEqualTo(results.stream().map(r -> r.get("doc_id").toString()).collect(Collectors.toSet()));
        assertThat(timings).allSatisfy(t -> {
            assertThat((Double) t.get("extract_ms")).isPositive();
            assertThat((Double) t.get("tokenize_ms")).isPositive();
            assertThat((Double) t.get("target_prefill_ms")).isPositive();
            assertThat((Double) t.get("ttft_ms")).isPositive();
            assertThat((Double) t.get("decode_ms")).isNotNegative();
            assertThat((Double) t.get("decode_tokens_per_s")).isNotNegative();
            assertThat((Integer) t.get("engine_calls")).isPositive();
            assertThat((Integer) t.get("batch_size")).isPositive();
        });
    }

    private static List<String> uris(Path dir, Predicate<String> name) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> name.test(f.getFileName().toString()))
                    .map(f -> f.toAbsolutePath().toString())
                    .toList();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return Stream.concat(a.stream(), b.stream()).toList();
    }
}
