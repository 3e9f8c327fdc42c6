package dev.pflash.pipeline.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.pipeline.FakeEngine;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.schemas.DocumentError;
import java.util.ArrayList;
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
public class ScoreLabelsTest {
    private static final LabelSet LABELS = LabelSet.parse("labels", "alpha\tfirst\nbeta\ngamma\n");

    @Rule
    public final transient TestPipeline pipeline = TestPipeline.create();

    @Test
    public void eachPromptGetsEveryLabelsScoreAndAFailingPromptBecomesAnErrorRow() {
        FakeEngine tokenizer = new FakeEngine(200);
        DocumentPrompt good = prompt(tokenizer, "good", "x".repeat(20));
        DocumentPrompt poisoned = prompt(tokenizer, "bad", "x" + FakeEngine.POISON);
        EngineConfig config = new EngineConfig("fake:200:score-labels", null, "cpu", 1, null);

        PCollectionTuple out = pipeline
                .apply(Create.of(KV.<String, Iterable<DocumentPrompt>>of("k", List.of(good, poisoned)))
                        .withCoder(KvCoder.of(StringUtf8Coder.of(),
                                IterableCoder.of(SerializableCoder.of(DocumentPrompt.class)))))
                .apply(new ScoreLabels("run-2", config, FakeEngine::open, LABELS));

        PAssert.that(out.get(ScoreLabels.CLASSIFICATIONS)).satisfies(rows -> {
            List<DocumentClassification> list = new ArrayList<>();
            rows.forEach(list::add);
            assertThat(list).singleElement().satisfies(c -> {
                assertThat(c.meta().docId()).isEqualTo("good");
                assertThat(c.scores()).extracting(ScoredLabel::label).containsExactly("alpha", "beta", "gamma");
                assertThat(c.scores()).extracting(ScoredLabel::logLikelihood).containsExactly(-1.0, -2.0, -3.0);
                assertThat(c.scores().stream().mapToDouble(ScoredLabel::probability).sum()).isEqualTo(1.0);
                assertThat(c.top().label()).isEqualTo("alpha");
                assertThat(c.labelTokens()).isEqualTo(5 + 4 + 5);
                assertThat(c.batchSize()).isEqualTo(2);
                assertThat(c.usage().ttftMs()).isEqualTo(FakeEngine.TTFT_MS);
                assertThat(c.usage().decodeMs()).as("label scoring").isEqualTo(FakeEngine.DECODE_MS);
                assertThat(c.usage().generatedTokens()).isZero();
            });
            return null;
        });
        PAssert.that(out.get(ScoreLabels.ERRORS)).satisfies(errors -> {
            List<DocumentError> list = new ArrayList<>();
            errors.forEach(list::add);
            assertThat(list).singleElement().satisfies(e -> {
                assertThat(e.getDocId()).isEqualTo("bad");
                assertThat(e.getStage()).isEqualTo("classify");
                assertThat(e.getMessage()).isEqualTo("bad: poisoned body");
                assertThat(e.getRunId()).isEqualTo("run-2");
            });
            return null;
        });

        pipeline.run().waitUntilFinish();
    }

    private static DocumentPrompt prompt(FakeEngine engine, String id, String body) {
        DocumentMeta meta = new DocumentMeta(id, "file:///" + id, "00", "text/plain", null, null, null, null,
                body.length(), body.length(), false, 1.5);
        return DocumentPrompt.of(meta, engine.tokenize(id, ClassifyTemplate.of(LABELS).fill(body)), 0.5);
    }
}
