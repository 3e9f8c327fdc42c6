package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.engine.BodySelection;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.KeySpan;
import dev.pflash.runtime.gguf.GgufFile;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.TinyHybridModel;
import dev.pflash.runtime.model.Transformer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole scoring and selection path on a drafter whose attention follows token identity: the
 * question repeats the needle's key, so the tail attends to the needle, and the needle must be
 * among the 5% of chunks kept, with lexical anchors off (they would find the repeated key on their
 * own).
 */
class IdentityDrafterNeedleTest {
    private static final int VOCAB = 64;
    /**
     * Filler words are tokens 0..39; the needle 40..49, its key 40..43 and then the value, within the
     * reach of the score smoothing (6 tokens either side); question words 56..63.
     */
    private static final int FILLER = 40;
    private static final int[] NEEDLE = IntStream.range(40, 50).toArray();
    private static final int[] PREFIX = {60, 61, 62};
    private static final int[] SUFFIX = {56, 57, 40, 41, 42, 43, 58, 59};

    private static CpuBackend backend;
    private static SpeculativePrefill pflash;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(2);
        TinyDrafter drafter = TinyDrafter.identity(VOCAB, 2, 4f);
        pflash = SpeculativePrefill.sharingIds(drafter.config(), drafter.load(backend), backend);
    }

    @AfterAll
    static void tearDown() {
        pflash.close();
        backend.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {8192, 32768})
    void theNeedleSurvivesAtKeepRatio5Percent(int haystack) {
        SplittableRandom rnd = new SplittableRandom(haystack);
        int bodyLength = haystack - PREFIX.length - SUFFIX.length;
        int[] body = new int[bodyLength];
        for (int i = 0; i < bodyLength; i++) {
            body[i] = rnd.nextInt(FILLER);
        }
        int depth = (int) (bodyLength * rnd.nextDouble(0.25, 0.75));
        System.arraycopy(NEEDLE, 0, body, depth, NEEDLE.length);
        CompressionSettings settings = CompressionSettings.defaults().withMode(CompressionSettings.Mode.ALWAYS)
                .withLexicalAnchors(false);

        CompressionResult result = pflash.select(PREFIX, body, SUFFIX, settings, 0.05, Integer.MAX_VALUE);
        BodySelection selection = result.selection();

        int[] kept = selection.kept();
        for (int i = 0; i < NEEDLE.length; i++) {
            assertThat(Arrays.binarySearch(kept, depth + i)).as("needle token %d at %d", i, depth + i)
                    .isNotNegative();
        }
        int chunks = ChunkSelector.chunkCount(bodyLength, 32);
        int byScore = ChunkSelector.keepCount(bodyLength, 32, 0.05);
        assertThat(result.chunks()).isEqualTo(chunks);
        assertThat(result.keptChunks()).isLessThanOrEqualTo(byScore + settings.headChunks() + settings.tailChunks());
        assertThat(kept.length).isLessThanOrEqualTo(result.keptChunks() * 32);
        KeySpan needleSpan = selection.spans().stream().filter(s -> s.start() <= depth && s.end() > depth)
                .findFirst().orElseThrow();
        for (KeySpan other : selection.spans()) {
            if (other != needleSpan) {
                assertThat(other.score()).as("span %s", other).isLessThan(needleSpan.score() / 1000);
            }
        }
    }

    /**
     * With a hybrid (qwen35) target the drafter's selection is the same, and the target prefills the
     * prefix, the kept body with the needle in it, and the suffix, in order, from position 0.
     */
    @Test
    void aHybridTargetPrefillsTheNeedleThatTheDrafterFinds(@TempDir Path dir) {
        SplittableRandom rnd = new SplittableRandom(5);
        int[] body = new int[4096];
        for (int i = 0; i < body.length; i++) {
            body[i] = rnd.nextInt(FILLER);
        }
        int depth = 2900;
        System.arraycopy(NEEDLE, 0, body, depth, NEEDLE.length);
        CompressionSettings settings = CompressionSettings.defaults().withMode(CompressionSettings.Mode.ALWAYS)
                .withLexicalAnchors(false);
        BodySelection selection = pflash.select(PREFIX, body, SUFFIX, settings, 0.05, Integer.MAX_VALUE).selection();
        int[] kept = Arrays.stream(selection.kept()).map(i -> body[i]).toArray();
        int[] sequence = IntStream.concat(IntStream.concat(Arrays.stream(PREFIX), Arrays.stream(kept)),
                Arrays.stream(SUFFIX)).toArray();
        assertThat(Collections.indexOfSubList(Arrays.stream(sequence).boxed().toList(),
                Arrays.stream(NEEDLE).boxed().toList())).as("the needle, whole, in what the target prefills")
                .isBetween(PREFIX.length, PREFIX.length + kept.length - NEEDLE.length);

        Path file = new TinyHybridModel(3, VOCAB).write(dir.resolve("hybrid-target.gguf"));
        try (ModelFile target = GgufFile.open(file); Transformer t = Transformer.load(target, backend);
                KvCache cache = t.newCache()) {
            float[] logits = t.forward(cache, sequence, 0, LogitsMode.LAST);
            assertThat(cache.length()).isEqualTo(sequence.length).isLessThan(body.length / 3);
            assertThat(logits).hasSize(VOCAB);
            for (float v : logits) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
    }

    @Test
    void aQuestionAboutAnotherKeyDoesNotPointAtTheNeedle() {
        SplittableRandom rnd = new SplittableRandom(1);
        int[] body = new int[8192];
        for (int i = 0; i < body.length; i++) {
            body[i] = rnd.nextInt(FILLER);
        }
        System.arraycopy(NEEDLE, 0, body, body.length / 2, NEEDLE.length);
        int[] otherQuestion = {56, 57, 50, 51, 52, 53, 58, 59};
        CompressionSettings settings = CompressionSettings.defaults().withLexicalAnchors(false);

        BodySelection selection = pflash.select(PREFIX, body, otherQuestion, settings, 0.05, Integer.MAX_VALUE)
                .selection();

        assertThat(selection.spans()).allSatisfy(s -> assertThat(s.score()).isLessThan(1e-6f));
    }
}
