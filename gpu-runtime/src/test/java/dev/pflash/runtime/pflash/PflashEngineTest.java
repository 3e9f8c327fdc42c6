package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.CompressionSettings.Mode;
import dev.pflash.runtime.engine.ContextOverflowException;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.KeySpan;
import dev.pflash.runtime.engine.LocalEngine;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.sampling.Sampler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PFlash behind the engine API: what the target prefills, the modes, and compression to fit. */
class PflashEngineTest {
    static final String DEMO_TARGET = "../sample-data/models/demo-target.gguf";
    static final String DEMO_DRAFTER = "../sample-data/models/demo-drafter.gguf";
    static final String BYTE_DRAFTER = "synthetic:cpu-drafter";

    static String document;

    @BeforeAll
    static void readDocument() throws IOException {
        document = Files.readString(Path.of("../sample-data/models/tokenizer-corpus.txt")).substring(0, 5000);
    }

    private static EngineConfig config(String target, String drafter, CompressionSettings compression) {
        return new EngineConfig(target, drafter, "cpu", 2, "You are concise.", compression, 0);
    }

    private static PromptText text(int bodyChars) {
        return new PromptText("Summarize the document below.\n\n", document.substring(0, bodyChars),
                "\n\nWrite a concise summary of the harbor notes.");
    }

    /** Body indices the spans cover, ascending. */
    private static int[] kept(List<KeySpan> spans) {
        return spans.stream().flatMapToInt(s -> IntStream.range(s.start(), s.end())).toArray();
    }

    /** The greedy tokens the target gives for {@code tokens} at {@code positions}. */
    private static int[] greedy(LocalEngine engine, int[] tokens, int[] positions, int n) {
        int[] out = new int[n];
        int count = 0;
        try (KvCache cache = engine.target().newCache()) {
            float[] logits = engine.target().forward(cache, tokens, positions, LogitsMode.LAST);
            int next = positions[positions.length - 1] + 1;
            while (count < n) {
                int token = Sampler.argmax(logits);
                if (engine.tokenizer().isStopToken(token)) {
                    break;
                }
                out[count++] = token;
                logits = engine.target().forward(cache, new int[] {token}, new int[] {next++}, LogitsMode.LAST);
            }
        }
        return Arrays.copyOf(out, count);
    }

    @Test
    void theTargetPrefillsThePrefixTheKeptBodyInOrderAndTheSuffix() {
        CompressionSettings always = CompressionSettings.defaults().withMode(Mode.ALWAYS).withKeepRatio(0.1);
        for (boolean original : new boolean[] {false, true}) {
            try (LocalEngine engine = LocalEngine.open(config(DEMO_TARGET, DEMO_DRAFTER,
                    always.withOriginalPositions(original)))) {
                Prompt p = engine.tokenize("doc", text(5000));
                EngineResult r = engine.generate(p, GenerationSettings.greedy(4));

                int[] body = p.bodyTokens();
                int[] kept = kept(r.keySpans());
                assertThat(kept).isSorted().doesNotHaveDuplicates();
                assertThat(kept.length).isEqualTo(r.tokens().keptBody()).isLessThan(body.length).isPositive();
                assertThat(r.keySpans()).allSatisfy(s -> assertThat(s.end()).isGreaterThan(s.start()));
                assertThat(r.timings().draftMs()).isPositive();
                assertThat(r.timings().selectMs()).isPositive();
                assertThat(r.timings().ttftMs()).isGreaterThan(r.timings().draftMs() + r.timings().targetPrefillMs());

                int prefix = p.prefixTokens().length;
                int[] sequence = new int[prefix + kept.length + p.suffixTokens().length];
                int[] positions = new int[sequence.length];
                System.arraycopy(p.prefixTokens(), 0, sequence, 0, prefix);
                for (int i = 0; i < kept.length; i++) {
                    sequence[prefix + i] = body[kept[i]];
                }
                System.arraycopy(p.suffixTokens(), 0, sequence, prefix + kept.length, p.suffixTokens().length);
                for (int i = 0; i < sequence.length; i++) {
                    positions[i] = !original ? i
                            : i < prefix ? i
                            : i < prefix + kept.length ? prefix + kept[i - prefix]
                            : i - kept.length + body.length;
                }
                assertThat(r.generatedTokens()).as("original positions: %s", original)
                        .containsExactly(greedy(engine, sequence, positions, 4));
            }
        }
    }

    @Test
    void aHybridTargetPrefillsThePrefixTheKeptBodyAndTheSuffix() {
        CompressionSettings always = CompressionSettings.defaults().withMode(Mode.ALWAYS).withKeepRatio(0.1)
                .withForcedChunks(1, 1).withLexicalAnchors(false);
        try (LocalEngine engine = LocalEngine.open(config("synthetic:qwen35-small?ctx=2048", BYTE_DRAFTER, always))) {
            Prompt p = engine.tokenize("doc", text(1200));
            EngineResult r = engine.generate(p, GenerationSettings.greedy(2));

            int[] body = p.bodyTokens();
            int[] kept = kept(r.keySpans());
            assertThat(r.tokens().prefix()).isEqualTo(p.prefixTokens().length);
            assertThat(r.tokens().suffix()).isEqualTo(p.suffixTokens().length);
            assertThat(kept.length).isEqualTo(r.tokens().keptBody()).isPositive().isLessThan(body.length / 4);
            int prefix = p.prefixTokens().length;
            int[] sequence = new int[prefix + kept.length + p.suffixTokens().length];
            System.arraycopy(p.prefixTokens(), 0, sequence, 0, prefix);
            for (int i = 0; i < kept.length; i++) {
                sequence[prefix + i] = body[kept[i]];
            }
            System.arraycopy(p.suffixTokens(), 0, sequence, prefix + kept.length, p.suffixTokens().length);
            assertThat(r.generatedTokens()).containsExactly(
                    greedy(engine, sequence, IntStream.range(0, sequence.length).toArray(), 2));
        }
    }

    @Test
    void autoCompressesFromTheThresholdAndOffNever() {
        CompressionSettings auto = CompressionSettings.defaults().withThreshold(600).withForcedChunks(2, 4);
        try (LocalEngine engine = LocalEngine.open(config(DEMO_TARGET, DEMO_DRAFTER, auto))) {
            Prompt small = engine.tokenize("small", text(1500));
            Prompt large = engine.tokenize("large", text(4000));
            assertThat(small.bodyTokens().length).isLessThan(600);
            assertThat(large.bodyTokens().length).isGreaterThanOrEqualTo(600);

            EngineResult a = engine.generate(small, GenerationSettings.greedy(1));
            EngineResult b = engine.generate(large, GenerationSettings.greedy(1));

            assertThat(a.keySpans()).isEmpty();
            assertThat(a.tokens().keptBody()).isEqualTo(small.bodyTokens().length);
            assertThat(a.timings().draftMs()).isZero();
            assertThat(b.keySpans()).isNotEmpty();
            assertThat(b.tokens().keptBody()).isLessThan(large.bodyTokens().length);
        }
        try (LocalEngine engine = LocalEngine.open(config(DEMO_TARGET, DEMO_DRAFTER, auto.withMode(Mode.OFF)))) {
            Prompt large = engine.tokenize("large", text(4000));
            EngineResult r = engine.generate(large, GenerationSettings.greedy(1));
            assertThat(r.keySpans()).isEmpty();
            assertThat(r.tokens().keptBody()).isEqualTo(large.bodyTokens().length);
        }
    }

    @Test
    void aBodyThatTheForcedChunksCoverWholeIsKeptWithoutDrafting() {
        CompressionSettings always = CompressionSettings.defaults().withMode(Mode.ALWAYS);
        try (LocalEngine engine = LocalEngine.open(config(DEMO_TARGET, DEMO_DRAFTER, always))) {
            Prompt p = engine.tokenize("short", text(2000));
            assertThat(p.bodyTokens().length).isLessThanOrEqualTo(32 * (8 + 24));

            EngineResult r = engine.generate(p, GenerationSettings.greedy(1));

            assertThat(r.tokens().keptBody()).isEqualTo(p.bodyTokens().length);
            assertThat(r.keySpans()).isEmpty();
            assertThat(r.timings().draftMs()).isZero();
        }
    }

    @Test
    void aBodyTooLongForTheContextIsCompressedToFitNeverTruncated() {
        String small = "synthetic:cpu-drafter?ctx=700";
        // A threshold the body stays below: compression comes from the context window alone.
        CompressionSettings notAsked = CompressionSettings.defaults().withThreshold(100_000);
        try (LocalEngine engine = LocalEngine.open(config(small, BYTE_DRAFTER, notAsked))) {
            Prompt p = engine.tokenize("long", text(3000));
            assertThat(p.length()).isGreaterThan(700);

            EngineResult r = engine.generate(p, GenerationSettings.greedy(3));

            int total = r.tokens().prefix() + r.tokens().keptBody() + r.tokens().suffix();
            assertThat(total).isLessThan(700);
            assertThat(r.tokens().prefix()).isEqualTo(p.prefixTokens().length);
            assertThat(r.tokens().suffix()).isEqualTo(p.suffixTokens().length);
            // Whole chunks only: every span but one at the body's end is a run of 32-token chunks.
            for (KeySpan s : r.keySpans()) {
                assertThat(s.start() % 32).isZero();
                assertThat(s.end() % 32 == 0 || s.end() == p.bodyTokens().length).isTrue();
            }
            // The keep ratio was lowered only as far as needed: one more chunk would not fit.
            assertThat(total + 32).isGreaterThanOrEqualTo(700);
        }
        try (LocalEngine engine = LocalEngine.open(config(small, BYTE_DRAFTER,
                CompressionSettings.defaults().withMode(Mode.OFF)))) {
            Prompt p = engine.tokenize("long", text(3000));
            assertThatThrownBy(() -> engine.generate(p, GenerationSettings.greedy(3)))
                    .isInstanceOf(ContextOverflowException.class);
        }
    }

    @Test
    void aDrafterWithAnotherVocabularyScoresThroughTextAndKeepsWholeTargetTokens() {
        CompressionSettings always = CompressionSettings.defaults().withMode(Mode.ALWAYS).withKeepRatio(0.1)
                .withForcedChunks(2, 4);
        try (LocalEngine engine = LocalEngine.open(config(DEMO_TARGET, BYTE_DRAFTER, always))) {
            Prompt p = engine.tokenize("doc", text(4000));
            EngineResult r = engine.generate(p, GenerationSettings.greedy(2));

            int[] kept = kept(r.keySpans());
            assertThat(kept).isSorted().doesNotHaveDuplicates();
            assertThat(kept.length).isEqualTo(r.tokens().keptBody()).isPositive().isLessThan(p.bodyTokens().length);
            assertThat(kept[kept.length - 1]).isLessThan(p.bodyTokens().length);
        }
    }
}
