package dev.pflash.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.pipeline.classify.ClassifyTemplate;
import dev.pflash.pipeline.classify.LabelSet;
import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.output.RunMetrics;
import dev.pflash.pipeline.output.RunTotals;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.Engines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.TestPipeline;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The classify job on {@code sample-data/} (good documents and bad inputs) with the demo target,
 * on Beam's TestPipeline. Extraction stops at 1,500 characters so that the test stays quick; the
 * long documents are classified from their beginning (their rows say text_truncated).
 */
public class ClassifyPipelineTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();

    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();
    @Rule
    public final transient TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void everyFileEndsAsOneRowAndEachRowsLabelProbabilitiesSumToOne() throws IOException {
        Path out = folder.getRoot().toPath();
        LabelSet labels = LabelSet.load(SAMPLE.resolve("labels.txt"));
        EngineConfig engine = new EngineConfig(SAMPLE.resolve("models/demo-target.gguf").toString(), null, "cpu", 0,
                null, CompressionSettings.off(), 64L << 20);
        ClassifyConfig config = new ClassifyConfig("classify-run",
                List.of(SAMPLE.resolve("docs") + "/**", SAMPLE.resolve("bad") + "/**"),
                ExtractionLimits.defaults().withMaxChars(1500), labels, ClassifyTemplate.of(labels), engine,
                Engines::open, 2048, new OutputLayout(out.toString(), 1, "SNAPPY"));

        pipeline.apply(new ClassifyPipeline(config));
        PipelineResult run = pipeline.run();
        run.waitUntilFinish();

        List<String> inputs = files(SAMPLE.resolve("docs"), SAMPLE.resolve("bad"));
        List<String> documents = files(SAMPLE.resolve("docs"));
        List<GenericRecord> results = ParquetTables.rows(out.resolve("results"));
        List<GenericRecord> errors = ParquetTables.rows(out.resolve("errors"));
        List<GenericRecord> timings = ParquetTables.rows(out.resolve("timings"));
        assertThat(Stream.concat(results.stream(), errors.stream()).map(r -> r.get("uri").toString()))
                .containsExactlyInAnyOrderElementsOf(inputs);
        assertThat(results).extracting(r -> r.get("uri").toString()).containsAll(documents);
        assertThat(errors).allSatisfy(e -> assertThat(e.get("stage").toString()).isIn("extract", "prompt"));

        assertThat(results).allSatisfy(r -> {
            List<?> scores = (List<?>) r.get("label_scores");
            assertThat(scores).hasSize(labels.names().size());
            assertThat(scores).extracting(s -> ((GenericRecord) s).get("label").toString())
                    .containsExactlyElementsOf(labels.names());
            double sum = 0;
            double best = 0;
            String bestLabel = null;
            int labelTokens = 0;
            for (Object o : scores) {
                GenericRecord s = (GenericRecord) o;
                double p = (Double) s.get("probability");
                assertThat(p).isBetween(0.0, 1.0);
                assertThat((Double) s.get("log_likelihood")).isNegative();
                assertThat(p).isCloseTo(Math.exp((Double) s.get("log_likelihood")) / normalizer(scores),
                        within(1e-12));
                if (p > best) {
                    best = p;
                    bestLabel = s.get("label").toString();
                }
                sum += p;
                labelTokens += (Integer) s.get("tokens");
            }
            assertThat(sum).isCloseTo(1.0, within(1e-9));
            assertThat(r.get("top_label").toString()).isEqualTo(bestLabel);
            assertThat((Double) r.get("top_probability")).isEqualTo(best);
            assertThat((Integer) r.get("label_tokens")).isEqualTo(labelTokens);
            int prompt = (Integer) r.get("prompt_tokens");
            assertThat(prompt).isEqualTo((Integer) r.get("prefix_tokens") + (Integer) r.get("body_tokens")
                    + (Integer) r.get("suffix_tokens"));
            assertThat((Integer) r.get("kept_tokens")).isEqualTo((Integer) r.get("body_tokens"));
            assertThat((Integer) r.get("prefix_tokens_reused")).isBetween(0, (Integer) r.get("prefix_tokens"));
            assertThat((Double) r.get("ttft_ms")).isPositive();
            assertThat((Double) r.get("score_ms")).isPositive();
            assertThat((Boolean) r.get("demo_models")).isTrue();
        });
        assertThat(timings).extracting(t -> t.get("doc_id").toString())
                .containsExactlyInAnyOrderElementsOf(results.stream().map(r -> r.get("doc_id").toString()).toList());

        RunTotals totals = RunMetrics.totals(run.metrics());
        assertThat(totals.documentsOk()).isEqualTo(results.size());
        assertThat(totals.documentsFailed()).isEqualTo(errors.size());
        long reused = results.stream().mapToLong(r -> (Integer) r.get("prefix_tokens_reused")).sum();
        assertThat(totals.prefixTokensReused()).isEqualTo(reused).isPositive();
        assertThat(totals.generatedTokens()).isZero();
    }

    private static double normalizer(List<?> scores) {
        return scores.stream().mapToDouble(s -> Math.exp((Double) ((GenericRecord) s).get("log_likelihood"))).sum();
    }

    private static List<String> files(Path... dirs) throws IOException {
        List<String> all = new java.util.ArrayList<>();
        for (Path dir : dirs) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.filter(Files::isRegularFile).map(f -> f.toAbsolutePath().toString()).forEach(all::add);
            }
        }
        return all;
    }
}
