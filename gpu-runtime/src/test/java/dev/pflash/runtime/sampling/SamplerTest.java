package dev.pflash.runtime.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void greedyTakesTheArgmaxAndTheLowestIdOfTies() {
        assertThat(Sampler.greedy().sample(new float[] {0.5f, 3f, -1f, 2.9f})).isEqualTo(1);
        assertThat(Sampler.greedy().sample(new float[] {1f, 7f, 7f, 7f})).isEqualTo(1);
        assertThat(Sampler.greedy().sample(new float[] {Float.NEGATIVE_INFINITY, -5f})).isEqualTo(1);
        assertThat(new Sampler(0f, 40, 0.9f, 3).isGreedy()).isTrue();
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        Sampler topOne = new Sampler(1.5f, 1, 1f, 42);
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 200; i++) {
            float[] logits = randomLogits(rnd, 50);
            assertThat(topOne.sample(logits)).isEqualTo(Sampler.argmax(logits));
        }
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        float[] logits = randomLogits(new SplittableRandom(2), 1000);
        int[] a = draw(new Sampler(0.8f, 0, 0.95f, 1234), logits, 300);
        int[] b = draw(new Sampler(0.8f, 0, 0.95f, 1234), logits, 300);
        int[] c = draw(new Sampler(0.8f, 0, 0.95f, 1235), logits, 300);
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        // Probabilities 0.5, 0.3, 0.15, 0.05 (in shuffled id order): p = 0.75 keeps the first two.
        float[] logits = {(float) Math.log(0.15), (float) Math.log(0.5), (float) Math.log(0.05), (float) Math.log(0.3)};
        int[] counts = new int[4];
        Sampler sampler = new Sampler(1f, 0, 0.75f, 7);
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits)]++;
        }
        assertThat(counts[0]).isZero();
        assertThat(counts[2]).isZero();
        // Renormalized nucleus: 0.5/0.8 = 0.625 and 0.375; 5 standard deviations (~342) either side.
        assertThat(counts[1]).isBetween(12_500 - 342, 12_500 + 342);
        assertThat(counts[1] + counts[3]).isEqualTo(n);
    }

    @Test
    void topKKeepsTheKMostLikelyAndTemperatureFollowsTheSoftmax() {
        float[] logits = {0f, 2f, 1f, 2f, -1f};
        int[] counts = new int[5];
        Sampler sampler = new Sampler(1f, 3, 1f, 11);
        int n = 30_000;
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits)]++;
        }
        assertThat(counts[0]).isZero();
        assertThat(counts[4]).isZero();
        // Kept: ids 1, 3 (e^2 each) and 2 (e^1): P(2) = e / (2e^2 + e) = 0.1554.
        double p2 = Math.E / (2 * Math.exp(2) + Math.E);
        double sd = Math.sqrt(n * p2 * (1 - p2));
        assertThat((double) counts[2]).isBetween(n * p2 - 5 * sd, n * p2 + 5 * sd);

        // Temperature 2 on two tokens one logit apart: P = 1 / (1 + e^-0.5) = 0.6225.
        int[] hot = new int[2];
        Sampler warm = new Sampler(2f, 0, 1f, 12);
        for (int i = 0; i < n; i++) {
            hot[warm.sample(new float[] {1f, 0f})]++;
        }
        double p = 1 / (1 + Math.exp(-0.5));
        double sdHot = Math.sqrt(n * p * (1 - p));
        assertThat((double) hot[0]).isBetween(n * p - 5 * sdHot, n * p + 5 * sdHot);
    }

    @Test
    void samplesFromAFullSizeVocabulary() {
        float[] logits = randomLogits(new SplittableRandom(3), 151_936);
        logits[4242] = 30f;
        // One token dominates: nucleus and top-k both reduce to it.
        assertThat(new Sampler(0.7f, 0, 0.9f, 1).sample(logits)).isEqualTo(4242);
        assertThat(new Sampler(0.7f, 20, 0.9f, 1).sample(logits)).isEqualTo(4242);
    }

    @Test
    void rejectsInvalidSettingsAndLogits() {
        assertThatThrownBy(() -> new Sampler(-1f, 0, 1f, 0)).hasMessage("temperature must be finite and >= 0, got -1.0");
        assertThatThrownBy(() -> new Sampler(1f, -2, 1f, 0)).hasMessage("topK must be >= 0, got -2");
        assertThatThrownBy(() -> new Sampler(1f, 0, 0f, 0)).hasMessage("topP must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> Sampler.greedy().sample(new float[0])).hasMessage("cannot sample from empty logits");
        assertThatThrownBy(() -> new Sampler(1f, 0, 1f, 0).sample(new float[] {Float.NaN, Float.NaN}))
                .hasMessage("cannot sample: the largest logit is NaN");
    }

    private static int[] draw(Sampler s, float[] logits, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits);
        }
        return out;
    }

    private static float[] randomLogits(SplittableRandom rnd, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) rnd.nextGaussian() * 2;
        }
        return l;
    }
}
