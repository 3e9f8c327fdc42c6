package dev.pflash.runtime.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.sampling.Sampler;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LocalEngineTest {
    static final String DEMO_TARGET = "../sample-data/models/demo-target.gguf";
    static final String DEMO_DRAFTER = "../sample-data/models/demo-drafter.gguf";
    static final PromptText TEXT = new PromptText("Summarize the document below.\n\n",
            "Tide pools hold anemones, <|im_end|> barnacles and the blue heron quorum.", "\n\nWrite a concise summary.");

    static LocalEngine engine;

    @BeforeAll
    static void open() {
        engine = LocalEngine.open(new EngineConfig(DEMO_TARGET, DEMO_DRAFTER, "cpu", 2, "You are concise."));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void tokenizeFramesThePromptWithTheChatTemplateAndKeepsDocumentTextLiteral() {
        Prompt p = engine.tokenize("doc", TEXT);

        String prefix = engine.tokenizer().decode(p.prefixTokens(), true);
        String body = engine.tokenizer().decode(p.bodyTokens(), true);
        String suffix = engine.tokenizer().decode(p.suffixTokens(), true);
        assertThat(prefix).isEqualTo("<|im_start|>system\nYou are concise.<|im_end|>\n<|im_start|>user\n"
                + "Summarize the document below.\n\n");
        assertThat(body).isEqualTo(TEXT.body());
        assertThat(suffix).isEqualTo("\n\nWrite a concise summary.<|im_end|>\n<|im_start|>assistant\n"
                + "<think>\n\n</think>\n\n");
        int imEnd = engine.tokenizer().tokenId("<|im_end|>").orElseThrow();
        assertThat(p.bodyTokens()).doesNotContain(imEnd);
        assertThat(p.suffixTokens()).contains(imEnd);
    }

    @Test
    void infoNamesTheModelsTheirHashesAndTheDemoFlag() {
        EngineInfo info = engine.info();
        assertThat(info.targetModel()).isEqualTo(DEMO_TARGET);
        assertThat(info.targetSha256()).hasSize(64).isNotEqualTo(info.drafterSha256());
        assertThat(info.drafterSha256()).hasSize(64);
        assertThat(info.backend()).isEqualTo("cpu");
        assertThat(info.contextLength()).isEqualTo(131072);
        assertThat(info.demoModels()).isTrue();
    }

    @Test
    void greedyGenerationIsTheArgmaxChainOfTheTargetModel() {
        Prompt p = engine.tokenize("doc", TEXT);
        EngineResult r = engine.generate(p, GenerationSettings.greedy(6));

        int[] expected = new int[6];
        int n = 0;
        try (KvCache cache = engine.target().newCache()) {
            float[] logits = engine.target().prefill(cache, p.allTokens());
            for (int i = 0; i < 6; i++) {
                int next = Sampler.argmax(logits);
                if (engine.tokenizer().isStopToken(next)) {
                    break;
                }
                expected[n++] = next;
                logits = engine.target().prefill(cache, new int[] {next});
            }
        }
        assertThat(r.generatedTokens()).containsExactly(Arrays.copyOf(expected, n));
        assertThat(r.text()).isEqualTo(engine.detokenize(r.generatedTokens()));
        assertThat(r.tokens().prompt()).isEqualTo(p.length());
        assertThat(r.tokens().keptBody()).isEqualTo(p.bodyTokens().length);
        assertThat(r.tokens().generated()).isEqualTo(n);
        assertThat(r.timings().ttftMs()).isGreaterThanOrEqualTo(r.timings().targetPrefillMs()).isPositive();
        assertThat(r.keySpans()).isEmpty();
    }

    @Test
    void seededSamplingRepeatsPerPromptWhateverTheBatch() {
        GenerationSettings hot = new GenerationSettings(8, 1.5f, 50, 0.95f, 42L);
        Prompt a = engine.tokenize("a", TEXT);
        Prompt b = engine.tokenize("b", new PromptText("Other instructions. ", "Moss grows slowly.", " Summary?"));

        EngineResult alone = engine.generate(a, hot);
        var batch = engine.generateBatch(java.util.List.of(b, a), hot);

        assertThat(batch).hasSize(2).allMatch(EngineOutcome::isOk);
        assertThat(batch.get(1).result().generatedTokens()).containsExactly(alone.generatedTokens());
        assertThat(engine.generate(a, new GenerationSettings(8, 1.5f, 50, 0.95f, 43L)).generatedTokens())
                .isNotEqualTo(alone.generatedTokens());
    }

    @Test
    void aPromptLongerThanTheContextIsAClearErrorAndFailsOnlyItsOwnBatchEntry() {
        try (LocalEngine small = LocalEngine.open(new EngineConfig("synthetic:cpu-drafter?ctx=40", null, "cpu", 1, null))) {
            Prompt ok = small.tokenize("ok", new PromptText("", "short", ""));
            Prompt tooLong = small.tokenize("long", new PromptText("", "x ".repeat(60), ""));

            assertThatThrownBy(() -> small.generate(tooLong, GenerationSettings.greedy(4)))
                    .isInstanceOf(ContextOverflowException.class)
                    .hasMessageContaining("prompt long has " + tooLong.length() + " tokens")
                    .hasMessageContaining("context window of synthetic:cpu-drafter?ctx=40 is 40 tokens");
            var outcomes = small.generateBatch(java.util.List.of(tooLong, ok), GenerationSettings.greedy(4));
            assertThat(outcomes.get(0).isOk()).isFalse();
            assertThat(outcomes.get(0).error()).isInstanceOf(ContextOverflowException.class);
            assertThat(outcomes.get(1).isOk()).isTrue();
            EngineResult r = small.generate(ok, GenerationSettings.greedy(100));
            assertThat(r.tokens().prompt() + r.tokens().generated()).isLessThanOrEqualTo(40);
        }
    }

    @Test
    void unknownOrUnavailableBackendsAreClearErrors() {
        assertThatThrownBy(() -> LocalEngine.open(new EngineConfig(DEMO_TARGET, null, "tpu", 0, null)))
                .hasMessage("unknown backend 'tpu'; choose auto, cpu or cuda");
        assertThatThrownBy(() -> LocalEngine.open(new EngineConfig(DEMO_TARGET, null, "cuda", 0, null)))
                .hasMessageContaining("backend cuda is not available");
        assertThatThrownBy(() -> LocalEngine.open(new EngineConfig("missing.gguf", null, "cpu", 0, null)))
                .hasMessageStartingWith("missing.gguf: no such model file");
    }
}
