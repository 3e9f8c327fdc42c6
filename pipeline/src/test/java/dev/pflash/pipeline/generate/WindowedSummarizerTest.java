package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.FakeEngine;
import dev.pflash.pipeline.prompt.DocumentMeta;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.GenerationSettings;
import org.junit.jupiter.api.Test;

class WindowedSummarizerTest {
    // FakeEngine frames "P:" as [1, P, :] and ":S" as [:, S, 2]: 6 tokens of prefix and suffix.
    private static final PromptTemplate TEMPLATE = new PromptTemplate("P:", ":S");
    private static final GenerationSettings SETTINGS = GenerationSettings.greedy(16);

    @Test
    void summarizesWindowsThenTheirSummaries() {
        FakeEngine engine = new FakeEngine(200);
        // room per window: 200 - 16 - 6 = 178, so 500 body tokens make 3 windows: 167, 167, 166
        DocumentPrompt document = prompt(engine, "d", "x".repeat(500));

        GenerationRun run = new WindowedSummarizer(engine, TEMPLATE, SETTINGS, 200).summarize(document);

        assertThat(engine.generatedIds()).containsExactly("d#w1", "d#w2", "d#w3", "d#combine1");
        // the combine body: "Part 1 of 3:\nsum(167)\n\nPart 2 of 3:\nsum(167)\n\nPart 3 of 3:\nsum(166)"
        assertThat(run.summary()).isEqualTo("sum(67)");
        assertThat(run.summaryTokens()).isEqualTo(7);
        assertThat(run.finishReason()).isEqualTo("STOP");
        assertThat(run.fitStrategy()).isEqualTo(FitStrategy.SPLIT);
        assertThat(run.windows()).isEqualTo(3);
        EngineUsage usage = run.usage();
        assertThat(usage.calls()).isEqualTo(4);
        assertThat(usage.keptBodyTokens()).isEqualTo(500);
        assertThat(usage.generatedTokens()).isEqualTo(8 + 8 + 8 + 7);
        assertThat(usage.decodedTokens()).isEqualTo(7 + 7 + 7 + 6);
        assertThat(usage.prefilledTokens()).isEqualTo(173 + 173 + 172 + 73);
        // the three windows ran as one engine batch, as long as the slowest (TTFT 3 + decode 4), then
        // the final call's TTFT
        assertThat(usage.ttftMs()).isEqualTo(7 + 3.0);
        assertThat(usage.decodeMs()).isEqualTo(4 * 4.0);
        assertThat(usage.targetPrefillMs()).isEqualTo(4 * 2.0);
        assertThat(usage.prefixLookupMs()).isEqualTo(4 * 1.0);
    }

    @Test
    void splitsTheJoinedSummariesAgainWhenTheyDoNotFit() {
        FakeEngine engine = new FakeEngine(100);
        // room 78: 7 windows (six of 72, one of 68); their joined summaries take 152 tokens, which
        // do not fit, so they go in 2 windows of 76, and those two summaries fit.
        DocumentPrompt document = prompt(engine, "d", "x".repeat(500));

        GenerationRun run = new WindowedSummarizer(engine, TEMPLATE, SETTINGS, 100).summarize(document);

        assertThat(engine.generatedIds()).containsExactly("d#w1", "d#w2", "d#w3", "d#w4", "d#w5", "d#w6", "d#w7",
                "d#combine1#w1", "d#combine1#w2", "d#combine2");
        assertThat(run.summary()).isEqualTo("sum(42)");
        assertThat(run.windows()).isEqualTo(7);
        assertThat(run.usage().calls()).isEqualTo(10);
        assertThat(run.usage().keptBodyTokens()).isEqualTo(500);
    }

    @Test
    void failsWhenSummariesDoNotShrink() {
        FakeEngine engine = new FakeEngine(60);
        DocumentPrompt document = prompt(engine, "d", "x".repeat(500));

        assertThatThrownBy(() -> new WindowedSummarizer(engine, TEMPLATE, SETTINGS, 60).summarize(document))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("d: the joined summaries of its windows (")
                .hasMessageContaining("still do not fit the 60-token context");
    }

    @Test
    void aFailedWindowFailsTheDocumentAndNamesTheWindow() {
        FakeEngine engine = new FakeEngine(200);
        DocumentPrompt document = prompt(engine, "d", "x".repeat(300) + FakeEngine.POISON + "x".repeat(199));

        assertThatThrownBy(() -> new WindowedSummarizer(engine, TEMPLATE, SETTINGS, 200).summarize(document))
                .isInstanceOf(WindowedSummarizer.WindowFailedException.class)
                .hasMessage("d: window 2 of 3 failed: d#w2: poisoned body")
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void joinLabelsEachPart() {
        assertThat(WindowedSummarizer.join(java.util.List.of("a", "b")))
                .isEqualTo("Part 1 of 2:\na\n\nPart 2 of 2:\nb");
    }

    static DocumentPrompt prompt(FakeEngine engine, String id, String body) {
        DocumentMeta meta = new DocumentMeta(id, "file:///" + id, "00", "text/plain", null, null, null, null,
                body.length(), body.length(), false, 1.5);
        return DocumentPrompt.of(meta, engine.tokenize(id, TEMPLATE.fill(body)), 0.5);
    }
}
