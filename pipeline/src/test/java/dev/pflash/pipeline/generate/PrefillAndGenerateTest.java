package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.FakeEngine;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.Engines;
import dev.pflash.schemas.DocumentError;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.Rule;
import org.junit.Test;

/** Runs on Beam's TestPipeline, whose JUnit 4 rule checks that the pipeline ran. */
public class PrefillAndGenerateTest {
    private static final PromptTemplate TEMPLATE = new PromptTemplate("P:", ":S");
    private static final DecodeSettings DECODE = new DecodeSettings(16, 0f, 0, 1f, 0L);

    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();

    @Test
    public void fittingPromptsRunAsABatchLongOnesInWindowsAndFailuresBecomeErrorRows() {
        FakeEngine tokenizer = new FakeEngine(200);
        DocumentPrompt shortDoc = WindowedSummarizerTest.prompt(tokenizer, "short", "x".repeat(50));
        DocumentPrompt poisoned = WindowedSummarizerTest.prompt(tokenizer, "bad", "x" + FakeEngine.POISON);
        DocumentPrompt longDoc = WindowedSummarizerTest.prompt(tokenizer, "long", "x".repeat(500));
        EngineConfig config = new EngineConfig("fake:200:prefill-and-generate", null, "cpu", 1, null);

        PCollectionTuple out = pipeline
                .apply(Create.of(KV.<String, Iterable<DocumentPrompt>>of("k", List.of(shortDoc, poisoned, longDoc)))
                        .withCoder(KvCoder.of(StringUtf8Coder.of(),
                                IterableCoder.of(SerializableCoder.of(DocumentPrompt.class)))))
                .apply(new PrefillAndGenerate("run-1", config, FakeEngine::open, TEMPLATE, DECODE, 0));

        PAssert.that(out.get(PrefillAndGenerate.SUMMARIES)).satisfies(summaries -> {
            List<DocumentSummary> sorted = new ArrayList<>();
            summaries.forEach(sorted::add);
            sorted.sort(Comparator.comparing(s -> s.meta().docId()));
            assertThat(sorted).extracting(s -> s.meta().docId()).containsExactly("long", "short");
            DocumentSummary longSummary = sorted.get(0);
            assertThat(longSummary.run().fitStrategy()).isEqualTo(FitStrategy.SPLIT);
            assertThat(longSummary.run().windows()).isEqualTo(3);
            assertThat(longSummary.run().summary()).isEqualTo("sum(67)");
            assertThat(longSummary.promptTokens()).isEqualTo(506);
            assertThat(longSummary.batchSize()).isEqualTo(3);
            DocumentSummary shortSummary = sorted.get(1);
            assertThat(shortSummary.run().fitStrategy()).isEqualTo(FitStrategy.NONE);
            assertThat(shortSummary.run().windows()).isEqualTo(1);
            assertThat(shortSummary.run().summary()).isEqualTo("sum(50)");
            assertThat(shortSummary.run().usage().calls()).isEqualTo(1);
            assertThat(shortSummary.run().usage().ttftMs()).isEqualTo(FakeEngine.TTFT_MS);
            assertThat(shortSummary.promptTokens()).isEqualTo(56);
            assertThat(shortSummary.prefixTokens()).isEqualTo(3);
            assertThat(shortSummary.bodyTokens()).isEqualTo(50);
            assertThat(shortSummary.suffixTokens()).isEqualTo(3);
            assertThat(shortSummary.tokenizeMs()).isEqualTo(0.5);
            assertThat(shortSummary.model()).isEqualTo(
                    new ModelIdentity("fake-target", "aa11", "fake-drafter", "bb22", "cpu", true));
            return null;
        });
        PAssert.that(out.get(PrefillAndGenerate.ERRORS)).satisfies(errors -> {
            List<DocumentError> list = new ArrayList<>();
            errors.forEach(list::add);
            assertThat(list).hasSize(1);
            DocumentError error = list.get(0);
            assertThat(error.getDocId()).isEqualTo("bad");
            assertThat(error.getUri()).isEqualTo("file:///bad");
            assertThat(error.getStage()).isEqualTo("generate");
            assertThat(error.getErrorClass()).isEqualTo("java.lang.IllegalArgumentException");
            assertThat(error.getMessage()).isEqualTo("bad: poisoned body");
            assertThat(error.getRunId()).isEqualTo("run-1");
            return null;
        });

        pipeline.run().waitUntilFinish();
    }

    @Test
    public void withPflashOnALongDocumentIsCompressedToFitInsteadOfSplit() {
        // Target and drafter share the synthetic byte-level vocabulary; the target's window of 512
        // tokens cannot hold the ~1,500-token prompt, so the engine must compress the body to fit.
        EngineConfig config = new EngineConfig("synthetic:cpu-drafter?ctx=512", "synthetic:cpu-drafter?ctx=4096",
                "cpu", 1, null, CompressionSettings.defaults(), 0L);
        DocumentPrompt longDoc;
        try (EngineHolder.Lease lease = EngineHolder.acquire(config, Engines::open)) {
            String body = "tide pools hold anemones and crabs. ".repeat(40);
            DocumentMeta meta = new DocumentMeta("long", "file:///long", "00", "text/plain", null, null, null, null,
                    body.length(), body.length(), false, 1.5);
            longDoc = DocumentPrompt.of(meta, lease.engine().tokenize("long", TEMPLATE.fill(body)), 0.5);
        }
        assertThat(longDoc.length()).isGreaterThan(1000);

        PCollectionTuple out = pipeline
                .apply(Create.of(KV.<String, Iterable<DocumentPrompt>>of("k", List.of(longDoc)))
                        .withCoder(KvCoder.of(StringUtf8Coder.of(),
                                IterableCoder.of(SerializableCoder.of(DocumentPrompt.class)))))
                .apply(new PrefillAndGenerate("run-2", config, Engines::open, TEMPLATE, DECODE, 0));

        PAssert.that(out.get(PrefillAndGenerate.SUMMARIES)).satisfies(summaries -> {
            List<DocumentSummary> list = new ArrayList<>();
            summaries.forEach(list::add);
            assertThat(list).hasSize(1);
            DocumentSummary summary = list.get(0);
            assertThat(summary.run().fitStrategy()).isEqualTo(FitStrategy.COMPRESS);
            assertThat(summary.run().windows()).isEqualTo(1);
            assertThat(summary.run().usage().keptBodyTokens()).isLessThan(summary.bodyTokens());
            assertThat(summary.prefixTokens() + summary.run().usage().keptBodyTokens() + summary.suffixTokens())
                    .isLessThan(512);
            return null;
        });
        PAssert.that(out.get(PrefillAndGenerate.ERRORS)).empty();

        pipeline.run().waitUntilFinish();
    }
}
