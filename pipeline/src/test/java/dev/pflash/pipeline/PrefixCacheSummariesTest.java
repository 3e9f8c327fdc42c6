package dev.pflash.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.DecodeSettings;
import dev.pflash.pipeline.generate.EngineHolder;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.cache.PrefixCache;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.Engines;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Greedy summaries of the sample documents are the same with the prefix cache off, cold (its
 * first run) and warm (a second run on the same engine). Extraction stops at 600 characters so
 * that three runs stay quick.
 */
class PrefixCacheSummariesTest {
    private static final Path SAMPLE = Path.of("..", "sample-data").toAbsolutePath().normalize();
    private static final String TARGET = SAMPLE.resolve("models/demo-target.gguf").toString();

    @Test
    void greedySummariesAreIdenticalWithTheCacheOffColdAndWarm(@TempDir Path dir) {
        EngineConfig off = new EngineConfig(TARGET, null, "cpu", 0, null, CompressionSettings.off(), 0);
        EngineConfig on = new EngineConfig(TARGET, null, "cpu", 0, null, CompressionSettings.off(), 64L << 20);

        List<GenericRecord> cacheOff = summarize(off, dir.resolve("off"));
        List<GenericRecord> cold;
        List<GenericRecord> warm;
        // Holding a lease keeps the engine, and its prefix cache, open between the two runs.
        try (EngineHolder.Lease lease = EngineHolder.acquire(on, Engines::open)) {
            cold = summarize(on, dir.resolve("cold"));
            warm = summarize(on, dir.resolve("warm"));
        }

        assertThat(cacheOff).hasSize(12);
        assertThat(summaries(cold)).isEqualTo(summaries(cacheOff));
        assertThat(summaries(warm)).isEqualTo(summaries(cacheOff));
        int prefix = (Integer) warm.get(0).get("prefix_tokens");
        int cachedBlocks = prefix / PrefixCache.DEFAULT_BLOCK_TOKENS * PrefixCache.DEFAULT_BLOCK_TOKENS;
        assertThat(cachedBlocks).isPositive();
        // Warm, every prompt finds the prefix's full blocks cached, or shares its batch's prefix.
        assertThat(warm).allSatisfy(r -> assertThat((Integer) r.get("prefix_tokens_reused")).isIn(cachedBlocks, prefix));
        assertThat(reused(warm)).isGreaterThan(reused(cold));
    }

    private static List<GenericRecord> summarize(EngineConfig engine, Path out) {
        SummarizeConfig config = new SummarizeConfig(out.getFileName().toString(),
                List.of(SAMPLE.resolve("docs") + "/**"), ExtractionLimits.defaults().withMaxChars(600),
                PromptTemplate.defaultSummary(), engine, Engines::open, new DecodeSettings(8, 0f, 0, 1f, 0L), 4096, 0,
                new OutputLayout(out.toString(), 1, "SNAPPY"));
        Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
        pipeline.apply(new SummarizePipeline(config));
        assertThat(pipeline.run().waitUntilFinish()).isEqualTo(PipelineResult.State.DONE);
        return ParquetTables.rows(out.resolve("results"));
    }

    private static Map<String, String> summaries(List<GenericRecord> rows) {
        return rows.stream().collect(Collectors.toMap(r -> r.get("doc_id").toString(), r -> r.get("summary").toString()));
    }

    private static long reused(List<GenericRecord> rows) {
        return rows.stream().mapToLong(r -> (Integer) r.get("prefix_tokens_reused")).sum();
    }
}
