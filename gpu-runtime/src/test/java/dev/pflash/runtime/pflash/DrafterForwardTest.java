package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.model.Weights;
import dev.pflash.runtime.pflash.MemoryLedger.Kind;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The drafter's layer-at-a-time pass: its tail scores and the memory it holds. */
class DrafterForwardTest {
    /** Three layers, GQA 4/2, head dim 16. */
    private static final TinyDrafter MODEL = TinyDrafter.random(3, 32, 48, 4, 2, 16, 97, 11);
    /** Blocks of 64 tokens: chunks of 8 blocks, so 700 tokens run in two chunks and 1100 in three. */
    private static final CompressionSettings DENSE = CompressionSettings.defaults()
            .withAlpha(0).withBlockTokens(64);

    private static CpuBackend backend;
    private static PflashOps ops;
    private static Weights weights;
    private static DrafterForward forward;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(2);
        ops = PflashOps.forBackend(backend);
        weights = MODEL.load(backend);
        forward = new DrafterForward(MODEL.config(), weights, backend, ops);
    }

    @AfterAll
    static void tearDown() {
        weights.close();
        ops.close();
        backend.close();
    }

    private static int[] tokens(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(MODEL.vocab);
        }
        return t;
    }

    @Test
    void tailScoresEqualANaiveDenseForwardBeforeAndAfterRope() {
        int[] prompt = tokens(700, 3);
        NaiveTailScores naive = new NaiveTailScores(MODEL);
        for (boolean beforeRope : new boolean[] {true, false}) {
            float[] got = forward.score(prompt, DENSE.withScoreBeforeRope(beforeRope), new MemoryLedger()).scores();
            double[] want = naive.scores(prompt, 8, beforeRope);
            double worst = 0;
            double sum = 0;
            for (int j = 0; j < prompt.length; j++) {
                worst = Math.max(worst, Math.abs(got[j] - want[j]));
                sum += got[j];
            }
            assertThat(worst).as("before RoPE: %s", beforeRope).isLessThanOrEqualTo(2e-5);
            // Each tail query's maxima over heads and layers sum to at least 1 (one softmax row's worth).
            assertThat(sum).isGreaterThanOrEqualTo(1.0 - 1e-4);
        }
    }

    @Test
    void scoringHoldsTheKeysAndValuesOfOneLayerAtATime() {
        int n = 1100;
        MemoryLedger ledger = new MemoryLedger();
        DraftScores scores = forward.score(tokens(n, 5), DENSE, ledger);

        long oneLayer = 2L * n * MODEL.kvHeads * MODEL.headDim * Float.BYTES;
        assertThat(ledger.peakBytes(Kind.KEYS_VALUES)).isEqualTo(oneLayer);
        assertThat(scores.stats().peakKeyValueBytes()).isEqualTo(oneLayer);
        assertThat(ledger.heldBytes()).as("everything released").isZero();
        assertThat(ledger.peakBytes(Kind.KEYS_VALUES)).as("a cache of every layer").isLessThan(MODEL.layers * oneLayer);
        assertThat(scores.stats().blockDensity()).as("alpha 0 reads every causal block").isEqualTo(1.0);
    }

    @Test
    void alphaMakesTheAttentionSparse() {
        DraftScores sparse = forward.score(tokens(1100, 5), DENSE.withAlpha(0.85), new MemoryLedger());
        assertThat(sparse.stats().selectedBlockPairs()).isLessThan(sparse.stats().causalBlockPairs());
        assertThat(sparse.stats().blockDensity()).isBetween(0.0, 1.0);
    }

    @Test
    void aPromptShorterThanTheTailIsScoredWhole() {
        float[] scores = forward.score(tokens(5, 9), DENSE, new MemoryLedger()).scores();
        assertThat(scores).hasSize(5);
        double sum = 0;
        for (float s : scores) {
            sum += s;
        }
        assertThat(sum).isGreaterThanOrEqualTo(1.0 - 1e-5);
    }

    @Test
    void badPromptsAreClearErrors() {
        assertThatThrownBy(() -> forward.score(new int[0], DENSE, new MemoryLedger()))
                .hasMessageContaining("empty prompt");
        assertThatThrownBy(() -> forward.score(new int[] {1, 2, 500}, DENSE, new MemoryLedger()))
                .hasMessageContaining("token id 500");
    }
}
