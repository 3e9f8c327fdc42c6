package dev.pflash.runtime.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.cache.PrefixCache;
import dev.pflash.runtime.cache.PrefixCacheStats;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.sampling.LogProbs;
import dev.pflash.runtime.sampling.Sampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's shared-prefix paths on the demo target: the prefix cache, batched prefill and
 * decode, and label scoring give exactly what prompt-by-prompt prefill from scratch gives (the
 * CPU backend computes each row the same way whatever the chunk around it, so equality is exact),
 * while computing the shared prefix once.
 */
class SharedPrefixEngineTest {
    static final String INSTRUCTIONS = "Read the document below with care. Summarize it for a busy reader: keep the"
            + " names, the numbers, the dates and the conclusions that matter, say who decided what, and leave out"
            + " anything the document does not say. Write plain sentences without lists or headings, in the order"
            + " the document tells things, and stop when the summary is complete. If the document is a letter,"
            + " say who wrote it and to whom; if it is a report, name the period it covers and its main figures;"
            + " if it is a guide or a handbook, say what it teaches and for whom; if it is a thread of messages,"
            + " say what was asked, what was answered and what is still open. Never invent a detail, never guess"
            + " a number, and never copy long passages word for word.\n\n<document>\n";
    static final String QUESTION = "\n</document>\n\nWrite the summary now.";
    static final List<String> BODIES = List.of(
            "Tide pools hold anemones, barnacles and the blue heron quorum that counted them at dawn.",
            "The bakery cooperative sold more rye in the third quarter and hired two morning bakers.",
            "Volunteers logged moss samples along the harbor wall before the rain came in.");
    static final List<String> LABELS = List.of("nature", "business report", "meeting minutes");

    static LocalEngine off;
    static LocalEngine on;

    @BeforeAll
    static void open() {
        off = LocalEngine.open(config(0));
        on = LocalEngine.open(config(64L << 20));
    }

    @AfterAll
    static void close() {
        off.close();
        on.close();
    }

    static EngineConfig config(long prefixCacheBytes) {
        return new EngineConfig(LocalEngineTest.DEMO_TARGET, null, "cpu", 2, "You are concise.",
                CompressionSettings.off(), prefixCacheBytes);
    }

    static List<Prompt> prompts(LocalEngine engine, String idPrefix) {
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < BODIES.size(); i++) {
            prompts.add(engine.tokenize(idPrefix + i, new PromptText(INSTRUCTIONS, BODIES.get(i), QUESTION)));
        }
        return prompts;
    }

    @Test
    void greedyOutputIsIdenticalWithTheCacheOffColdAndWarm() {
        GenerationSettings greedy = GenerationSettings.greedy(8);
        List<Prompt> prompts = prompts(off, "doc");
        int prefix = prompts.get(0).prefixTokens().length;
        int block = PrefixCache.DEFAULT_BLOCK_TOKENS;
        int cachedBlocks = prefix / block * block;
        assertThat(prefix % block).as("the prefix ends in a partial block, which is never cached").isPositive();

        List<EngineResult> cacheOff = prompts.stream().map(p -> off.generate(p, greedy)).toList();
        List<EngineResult> cold;
        List<EngineResult> warm;
        PrefixCacheStats stats;
        try (LocalEngine fresh = LocalEngine.open(config(64L << 20))) {
            cold = prompts.stream().map(p -> fresh.generate(p, greedy)).toList();
            warm = prompts.stream().map(p -> fresh.generate(p, greedy)).toList();
            stats = fresh.prefixCacheStats();
        }

        for (int i = 0; i < prompts.size(); i++) {
            int[] expected = naiveGreedy(off, prompts.get(i), 8);
            assertThat(cacheOff.get(i).generatedTokens()).as("cache off, prompt " + i).containsExactly(expected);
            assertThat(cold.get(i).generatedTokens()).as("cold cache, prompt " + i).containsExactly(expected);
            assertThat(warm.get(i).generatedTokens()).as("warm cache, prompt " + i).containsExactly(expected);
            assertThat(cacheOff.get(i).tokens().prefixReused()).isZero();
            assertThat(cold.get(i).tokens().prefixReused()).isEqualTo(i == 0 ? 0 : cachedBlocks);
            assertThat(warm.get(i).tokens().prefixReused()).isEqualTo(cachedBlocks);
            assertThat(warm.get(i).tokens().targetPrefilled()).isEqualTo(prompts.get(i).length() - cachedBlocks);
        }
        assertThat(stats.blocks()).isEqualTo(cachedBlocks / block);
        assertThat(stats.lookups()).isEqualTo(6);
        assertThat(stats.hitTokens()).as("two cold hits, three warm ones").isEqualTo(5L * cachedBlocks);
    }

    @Test
    void aBatchComputesItsPrefixOnceAndDecodesLikeSinglePrompts() {
        GenerationSettings sampled = new GenerationSettings(10, 1.2f, 40, 0.95f, 7L);
        List<Prompt> prompts = new ArrayList<>(prompts(off, "batch"));
        // One prompt that is all prefix: its last prefix token is run again, for its logits.
        prompts.add(new Prompt("prefix-only", prompts.get(0).prefixTokens(), new int[0], new int[0]));
        List<EngineResult> singles = prompts.stream().map(p -> off.generate(p, sampled)).toList();

        List<EngineOutcome> batch = off.generateBatch(prompts, sampled);

        int prefix = prompts.get(0).prefixTokens().length;
        assertThat(batch).hasSize(prompts.size()).allMatch(EngineOutcome::isOk);
        int computed = 0;
        for (int i = 0; i < prompts.size(); i++) {
            EngineResult r = batch.get(i).result();
            assertThat(r.promptId()).isEqualTo(prompts.get(i).id());
            assertThat(r.generatedTokens()).as("prompt " + i).containsExactly(singles.get(i).generatedTokens());
            assertThat(r.finishReason()).isEqualTo(singles.get(i).finishReason());
            int expectedReuse = i == 0 ? 0 : i == prompts.size() - 1 ? prefix - 1 : prefix;
            assertThat(r.tokens().prefixReused()).as("prompt " + i).isEqualTo(expectedReuse);
            computed += r.tokens().targetPrefilled();
        }
        int bodies = prompts.stream().mapToInt(p -> p.length() - p.prefixTokens().length).sum();
        assertThat(computed).as("the prefix once, then every prompt's rest").isEqualTo(prefix + bodies + 1);
    }

    @Test
    void labelScoresAreSumsOfPerTokenLogProbabilitiesAfterThePrompt() {
        Prompt prompt = prompts(on, "classify").get(0);
        Classification c = on.classify(prompt, LABELS);

        assertThat(c.labels()).extracting(LabelScore::label).containsExactlyElementsOf(LABELS);
        double[] expected = new double[LABELS.size()];
        int vocab = on.target().config().vocabSize();
        for (int i = 0; i < LABELS.size(); i++) {
            int[] label = on.tokenizer().encode(LABELS.get(i), false);
            assertThat(c.labels().get(i).tokens()).containsExactly(label);
            double sum = 0;
            for (int j = 0; j < label.length; j++) {
                int[] context = concat(prompt.allTokens(), Arrays.copyOf(label, j));
                try (KvCache cache = on.target().newCache()) {
                    sum += LogProbs.logProb(on.target().prefill(cache, context), 0, vocab, label[j]);
                }
            }
            expected[i] = sum;
            // The engine runs the label's tokens after the cached prompt, the reference each whole context in one
            // chunk: matmul calls on either side of CpuBackend.PANEL_TOKENS, so equal within float rounding.
            assertThat(c.labels().get(i).logLikelihood()).as(LABELS.get(i)).isCloseTo(sum, within(1e-4));
        }
        assertThat(c.labels().stream().mapToDouble(LabelScore::probability).sum()).isCloseTo(1.0, within(1e-12));
        double norm = Arrays.stream(expected).map(Math::exp).sum();
        for (int i = 0; i < LABELS.size(); i++) {
            assertThat(c.labels().get(i).probability()).isCloseTo(Math.exp(expected[i]) / norm, within(1e-4));
        }
        int best = 0;
        for (int i = 1; i < expected.length; i++) {
            best = expected[i] > expected[best] ? i : best;
        }
        assertThat(c.top().label()).isEqualTo(LABELS.get(best));
        assertThat(c.tokens().generated()).isZero();
        assertThat(c.labelTokens()).isEqualTo(c.labels().stream().mapToInt(s -> s.tokens().length).sum());
        assertThat(c.timings().ttftMs()).isPositive();
    }

    @Test
    void aClassificationBatchScoresEachPromptAsAlone() {
        List<Prompt> prompts = new ArrayList<>(prompts(on, "many"));
        prompts.add(new Prompt("empty", new int[0], new int[0], new int[0]));

        List<ClassificationOutcome> batch = on.classifyBatch(prompts, LABELS);

        assertThat(batch).hasSize(4);
        for (int i = 0; i < 3; i++) {
            Classification alone = off.classify(prompts.get(i), LABELS);
            assertThat(batch.get(i).result().labels()).as("prompt " + i)
                    .extracting(LabelScore::logLikelihood, LabelScore::probability)
                    .containsExactlyElementsOf(alone.labels().stream()
                            .map(s -> tuple(s.logLikelihood(), s.probability()))
                            .toList());
        }
        assertThat(batch.get(3).isOk()).isFalse();
        assertThat(batch.get(3).error()).hasMessage("prompt empty is empty");
        Prompt p = prompts.get(0);
        assertThatThrownBy(() -> on.classify(p, List.of())).hasMessage("no labels to score; give at least one");
        assertThatThrownBy(() -> on.classify(p, List.of("nature", "nature")))
                .hasMessage("label 'nature' is given twice; labels must be distinct");
        assertThatThrownBy(() -> on.classify(p, List.of("nature", " ")))
                .hasMessage("label 2 of 2 is blank; every label needs text");
    }

    @Test
    void pflashCompressesTheBodyOfAClassificationWhileTheCachedPrefixIsReused() {
        EngineConfig pflash = new EngineConfig(LocalEngineTest.DEMO_TARGET, LocalEngineTest.DEMO_DRAFTER, "cpu", 2,
                "You are concise.", CompressionSettings.defaults().withMode(CompressionSettings.Mode.ALWAYS),
                64L << 20);
        String longBody = String.join(" ", Collections.nCopies(60, BODIES.get(1)));
        try (LocalEngine engine = LocalEngine.open(pflash)) {
            Prompt first = engine.tokenize("long-1", new PromptText(INSTRUCTIONS, longBody, QUESTION));
            Prompt second = engine.tokenize("long-2", new PromptText(INSTRUCTIONS, longBody + " The end.", QUESTION));

            engine.classify(first, LABELS);
            Classification c = engine.classify(second, LABELS);

            int body = second.bodyTokens().length;
            assertThat(c.tokens().keptBody()).as("kept of " + body + " body tokens").isPositive().isLessThan(body);
            assertThat(c.keySpans()).isNotEmpty();
            int prefix = second.prefixTokens().length;
            assertThat(c.tokens().prefixReused()).as("the prefix is never compressed, so its cached KV serves")
                    .isEqualTo(prefix / PrefixCache.DEFAULT_BLOCK_TOKENS * PrefixCache.DEFAULT_BLOCK_TOKENS);
            assertThat(c.labels().stream().mapToDouble(LabelScore::probability).sum()).isCloseTo(1.0, within(1e-12));
        }
    }

    @Test
    void batchesAreSplitByPrefixAndByTheirKvBudget() {
        Prompt a1 = new Prompt("a1", new int[] {1, 2}, new int[5], new int[0]);
        Prompt b1 = new Prompt("b1", new int[] {3}, new int[5], new int[0]);
        Prompt a2 = new Prompt("a2", new int[] {1, 2}, new int[5], new int[0]);
        Prompt a3 = new Prompt("a3", new int[] {1, 2}, new int[5], new int[0]);
        Prompt big = new Prompt("big", new int[] {1, 2}, new int[40], new int[0]);

        // 7 tokens + 3 extra each: two fit a budget of 20, the third starts a new group; "big" goes alone.
        assertThat(PromptBatches.partition(List.of(a1, b1, a2, a3, big), 3, 20))
                .containsExactly(List.of(0, 2), List.of(3), List.of(4), List.of(1));
    }

    /** Greedy tokens of {@code engine}'s target for the prompt prefilled alone, from scratch, in one call. */
    static int[] naiveGreedy(LocalEngine engine, Prompt prompt, int maxNewTokens) {
        int[] out = new int[maxNewTokens];
        int n = 0;
        try (KvCache cache = engine.target().newCache()) {
            float[] logits = engine.target().prefill(cache, prompt.allTokens());
            while (n < maxNewTokens) {
                int next = Sampler.argmax(logits);
                if (engine.tokenizer().isStopToken(next)) {
                    break;
                }
                out[n++] = next;
                logits = engine.target().prefill(cache, new int[] {next});
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
