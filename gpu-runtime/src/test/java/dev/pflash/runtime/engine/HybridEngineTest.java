package dev.pflash.runtime.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.cache.PrefixCacheStats;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.TinyHybridModel;
import dev.pflash.runtime.models.SyntheticModels;
import dev.pflash.runtime.sampling.LogProbs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine on a hybrid (qwen35) target, a tiny random model with a byte-level tokenizer: the
 * prefix cache resumes from snapshots of the recurrent state at 64-token-aligned block ends and
 * changes no output; batches decode like single prompts; labels are scored from the state saved
 * after the prompt.
 */
class HybridEngineTest {
    /** Snapshots fall where the DeltaNet chunks and the prefix cache blocks both end. */
    private static final int ALIGNMENT = 64;

    @TempDir
    static Path dir;
    static String model;
    static LocalEngine off;

    @BeforeAll
    static void open() {
        model = new TinyHybridModel(11, SyntheticModels.byteLevelVocabulary(300)).write(dir.resolve("hybrid.gguf"))
                .toString();
        off = LocalEngine.open(config(0));
    }

    @AfterAll
    static void close() {
        off.close();
    }

    static EngineConfig config(long prefixCacheBytes) {
        return new EngineConfig(model, null, "cpu", 2, "You are concise.", CompressionSettings.off(),
                prefixCacheBytes);
    }

    /** Its attention heads have 16 dims, half a q8_0 block: refused when the engine opens, not per document. */
    @Test
    void aQ8CacheTheHeadsCannotHoldIsRefusedAtOpen() {
        EngineConfig q8 = new EngineConfig(model, null, "cpu", 2, null, CompressionSettings.off(), 0, ElementType.Q8_0);
        assertThatThrownBy(() -> LocalEngine.open(q8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has heads of 16 dims; a q8_0 KV cache stores blocks of 32 and needs a multiple"
                        + " of that: use f16 or f32");
    }

    @Test
    void greedyOutputIsIdenticalWithTheCacheOffColdAndWarm() {
        GenerationSettings greedy = GenerationSettings.greedy(8);
        List<Prompt> prompts = SharedPrefixEngineTest.prompts(off, "doc");
        int prefix = prompts.get(0).prefixTokens().length;
        int resumed = prefix / ALIGNMENT * ALIGNMENT;
        assertThat(resumed).as("the prefix spans a snapshot position").isPositive().isLessThan(prefix);

        List<EngineResult> cacheOff = prompts.stream().map(p -> off.generate(p, greedy)).toList();
        List<EngineResult> cold;
        List<EngineResult> warm;
        PrefixCacheStats stats;
        try (LocalEngine on = LocalEngine.open(config(64L << 20))) {
            cold = prompts.stream().map(p -> on.generate(p, greedy)).toList();
            warm = prompts.stream().map(p -> on.generate(p, greedy)).toList();
            stats = on.prefixCacheStats();
        }
        for (int i = 0; i < prompts.size(); i++) {
            int[] expected = SharedPrefixEngineTest.naiveGreedy(off, prompts.get(i), 8);
            assertThat(cacheOff.get(i).generatedTokens()).as("cache off, prompt " + i).containsExactly(expected);
            assertThat(cold.get(i).generatedTokens()).as("cold cache, prompt " + i).containsExactly(expected);
            assertThat(warm.get(i).generatedTokens()).as("warm cache, prompt " + i).containsExactly(expected);
            assertThat(cold.get(i).tokens().prefixReused()).isEqualTo(i == 0 ? 0 : resumed);
            assertThat(warm.get(i).tokens().prefixReused()).isEqualTo(resumed);
        }
        assertThat(stats.hitTokens()).as("two cold hits, three warm ones").isEqualTo(5L * resumed);
        assertThat(stats.bytes()).as("KV blocks and one state snapshot")
                .isEqualTo(resumed * off.target().config().kvBytesPerToken(KvCache.DEFAULT_TYPE)
                        + off.target().config().recurrentStateBytes());
    }

    @Test
    void aHybridModelIsRefusedAsTheDrafter() {
        assertThatThrownBy(() -> LocalEngine.open(new EngineConfig(model, model, "cpu", 2, "",
                CompressionSettings.defaults(), 0))).isInstanceOf(GgufException.class)
                .hasMessageContaining("hybrid.gguf").hasMessageContaining("cannot be the PFlash drafter");
    }

    @Test
    void aBatchDecodesLikeSinglePrompts() {
        GenerationSettings sampled = new GenerationSettings(6, 1.2f, 40, 0.95f, 7L);
        List<Prompt> prompts = new ArrayList<>(SharedPrefixEngineTest.prompts(off, "batch"));
        prompts.add(new Prompt("prefix-only", prompts.get(0).prefixTokens(), new int[0], new int[0]));
        List<EngineResult> singles = prompts.stream().map(p -> off.generate(p, sampled)).toList();
        List<EngineOutcome> batch = off.generateBatch(prompts, sampled);
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(batch.get(i).isOk()).isTrue();
            assertThat(batch.get(i).result().generatedTokens()).as("prompt " + i)
                    .containsExactly(singles.get(i).generatedTokens());
        }
    }

    @Test
    void labelsAreScoredFromTheStateAfterThePrompt() {
        Prompt prompt = SharedPrefixEngineTest.prompts(off, "classify").get(0);
        List<String> labels = SharedPrefixEngineTest.LABELS;
        Classification c = off.classify(prompt, labels);
        int vocab = off.target().config().vocabSize();
        for (int i = 0; i < labels.size(); i++) {
            int[] label = off.tokenizer().encode(labels.get(i), false);
            int[] sequence = Arrays.copyOf(prompt.allTokens(), prompt.length() + label.length - 1);
            System.arraycopy(label, 0, sequence, prompt.length(), label.length - 1);
            double expected = 0;
            try (KvCache cache = off.target().newCache()) {
                float[] logits = off.target().forward(cache, sequence, 0, LogitsMode.ALL);
                for (int j = 0; j < label.length; j++) {
                    expected += LogProbs.logProb(logits, (prompt.length() - 1 + j) * vocab, vocab, label[j]);
                }
            }
            assertThat(c.labels().get(i).logLikelihood()).as(labels.get(i)).isCloseTo(expected, within(1e-3));
        }
        // Scoring leaves the prompt's state as it found it: the same labels score the same again.
        assertThat(off.classify(prompt, labels).labels().get(2).logLikelihood())
                .isEqualTo(c.labels().get(2).logLikelihood());
    }
}
