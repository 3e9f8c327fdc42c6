package dev.pflash.runtime.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** PFlash {@code auto} by cost: predictions from model shapes and measured rates, the decision and the crossover. */
class CompressionCostTest {
    private static final CompressionSettings SETTINGS = CompressionSettings.defaults();

    /** A target four times the drafter's cost per token and per pair, at one operation per microsecond. */
    private static CompressionCost demoLike() {
        return new CompressionCost(new ForwardCost("target", 4_000, 4_000, 1e-3),
                new ForwardCost("drafter", 1_000, 1_000, 1e-3), SETTINGS);
    }

    @Test
    void forwardCostCountsWeightsPerTokenAndAttentionPerCausalPair() {
        ForwardCost cost = new ForwardCost("m", 10, 2, 0.5);
        // 4 tokens after 6 cached: 40 weight operations, (4*6 + 4*5/2) = 34 pairs of 2.
        assertThat(cost.predictMs(6, 4)).isCloseTo(0.5 * (40 + 68), within(1e-9));
        assertThat(cost.predictMs(0, 0)).isZero();
    }

    @Test
    void observedPassesMoveTheRateTowardsWhatTheyTook() {
        ForwardCost cost = new ForwardCost("m", 10, 0, 1);
        cost.observe(0, 10, 200);
        // measured 2 ms per operation; the rate moves 30% of the way from 1.
        assertThat(cost.predictMs(0, 10)).isCloseTo(130, within(1e-9));
    }

    @Test
    void theKeptEstimateIsTheChunksTheRatioAllowsPlusTheForcedOnes() {
        CompressionCost cost = demoLike();
        // 1,024 tokens: 32 chunks; 1 by score + 8 head + 24 tail >= 32, so the whole body stays.
        assertThat(cost.keptEstimate(1_024)).isEqualTo(1_024);
        // 6,400 tokens: 200 chunks; floor(200 * 0.05) = 10 by score + 32 forced = 42 chunks of 32.
        assertThat(cost.keptEstimate(6_400)).isEqualTo(42 * 32);
    }

    @Test
    void aBodyIsCompressedFromTheCrossoverOnAndNeverWhenTheSelectionWouldKeepItWhole() {
        CompressionCost cost = demoLike();
        int crossover = cost.crossover(100, 20, 131_071);

        assertThat(crossover).isGreaterThan(1_024);
        CompressionDecision at = cost.decide(100, crossover, 20);
        CompressionDecision before = cost.decide(100, crossover - 32, 20);
        assertThat(at.compressed()).isTrue();
        assertThat(at.predictedPflashMs()).isLessThan(at.predictedDenseMs());
        assertThat(before.compressed()).isFalse();
        assertThat(before.predictedPflashMs()).isGreaterThanOrEqualTo(before.predictedDenseMs());
        assertThat(at.columnValue()).isEqualTo("cost:compress");
        assertThat(before.columnValue()).isEqualTo("cost:dense");
        assertThat(cost.decide(100, 1_000, 20).compressed()).isFalse();
    }

    @Test
    void aDrafterAsCostlyAsTheTargetNeverPays() {
        CompressionCost cost = new CompressionCost(new ForwardCost("t", 1_000, 1_000, 1e-3),
                new ForwardCost("d", 1_000, 1_000, 1e-3), SETTINGS);
        assertThat(cost.crossover(0, 0, 131_071)).isEqualTo(-1);
    }
}
