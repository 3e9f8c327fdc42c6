package dev.pflash.runtime.engine;

import java.util.Objects;

/**
 * One label's score for one prompt: the label's token ids (target tokenizer, as the answer that
 * follows the prompt), their log-likelihood after the prompt (the sum of each token's
 * log-probability given the prompt and the label tokens before it), and its probability
 * normalized over the labels of the run.
 */
public record LabelScore(String label, int[] tokens, double logLikelihood, double probability) {
    public LabelScore {
        Objects.requireNonNull(label, "label");
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
