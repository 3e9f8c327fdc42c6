package dev.pflash.runtime.pflash;

/**
 * The drafter's verdict on a prompt: for each token, the tail-attention score (mean over the tail
 * queries of the maximum softmax probability over layers and heads), and what computing it cost.
 */
public record DraftScores(float[] scores, DraftStats stats) {
    public DraftScores {
        scores = scores.clone();
    }

    @Override
    public float[] scores() {
        return scores.clone();
    }
}
