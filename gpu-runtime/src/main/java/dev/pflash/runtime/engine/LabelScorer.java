package dev.pflash.runtime.engine;

import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.RecurrentState;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.sampling.LogProbs;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Scores labels as the answer that follows a prefilled prompt. A label's log-likelihood is the sum
 * of its tokens' log-probabilities: the first from the prompt's last logits, each next one from a
 * forward pass of the label's earlier tokens appended to the prompt's KV, which is then truncated
 * back for the next label (a hybrid model's recurrent state is saved after the prompt and
 * restored). So the prompt (the document) is prefilled once for all labels.
 * Probabilities are the softmax of the log-likelihoods over the labels.
 */
final class LabelScorer {
    private final Transformer target;

    LabelScorer(Transformer target) {
        this.target = target;
    }

    /**
     * The target's tokens of each label, as the model would write it after the prompt.
     *
     * @throws IllegalArgumentException for no labels, a blank or repeated label, or one that has no tokens
     */
    static List<int[]> tokenize(Tokenizer tokenizer, List<String> labels) {
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("no labels to score; give at least one");
        }
        Set<String> seen = new HashSet<>();
        List<int[]> tokens = new ArrayList<>(labels.size());
        for (String label : labels) {
            if (label.isBlank()) {
                throw new IllegalArgumentException("label " + (tokens.size() + 1) + " of " + labels.size()
                        + " is blank; every label needs text");
            }
            if (!seen.add(label)) {
                throw new IllegalArgumentException("label '" + label + "' is given twice; labels must be distinct");
            }
            int[] ids = tokenizer.encode(label, false);
            if (ids.length == 0) {
                throw new IllegalArgumentException("label '" + label + "' has no tokens");
            }
            tokens.add(ids);
        }
        return tokens;
    }

    /** Scores each prefilled prompt; a prompt whose scoring fails gets a failed outcome. Outcomes in input order. */
    List<ClassificationOutcome> scoreAll(List<Prefilled> prefilled, List<String> labels, List<int[]> labelTokens) {
        List<ClassificationOutcome> out = new ArrayList<>(prefilled.size());
        for (Prefilled p : prefilled) {
            try {
                out.add(ClassificationOutcome.ok(score(p, labels, labelTokens)));
            } catch (RuntimeException e) {
                out.add(ClassificationOutcome.failed(p.prompt().id(), e));
            }
        }
        return out;
    }

    private Classification score(Prefilled p, List<String> labels, List<int[]> labelTokens) {
        long start = System.nanoTime();
        KvCache cache = p.cache();
        int promptRows = cache.length();
        int vocab = target.config().vocabSize();
        int context = target.config().contextLength();
        double[] logLikelihoods = new double[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            int[] tokens = labelTokens.get(i);
            if (promptRows + tokens.length - 1 > context) {
                throw new ContextOverflowException(p.prompt().id() + " with label '" + labels.get(i) + "'",
                        promptRows + tokens.length, context, target.config().name());
            }
            double sum = LogProbs.logProb(p.logits(), 0, vocab, tokens[0]);
            if (tokens.length > 1) {
                int[] positions = new int[tokens.length - 1];
                int next = p.plan().nextPosition();
                for (int j = 0; j < positions.length; j++) {
                    positions[j] = next + j;
                }
                // A hybrid model's recurrent state cannot be cut back: save it after the prompt, restore it after.
                Optional<RecurrentState> afterPrompt = cache.recurrent().map(RecurrentState::copy);
                float[] rows;
                try {
                    rows = target.forward(cache, Arrays.copyOf(tokens, tokens.length - 1), positions, LogitsMode.ALL);
                } finally {
                    if (afterPrompt.isPresent()) {
                        cache.rewind(promptRows, afterPrompt.get());
                        afterPrompt.get().close();
                    } else {
                        cache.truncate(promptRows);
                    }
                }
                for (int j = 1; j < tokens.length; j++) {
                    sum += LogProbs.logProb(rows, (j - 1) * vocab, vocab, tokens[j]);
                }
            }
            logLikelihoods[i] = sum;
        }
        double[] probabilities = softmax(logLikelihoods);
        List<LabelScore> scores = new ArrayList<>(labels.size());
        for (int i = 0; i < labels.size(); i++) {
            scores.add(new LabelScore(labels.get(i), labelTokens.get(i), logLikelihoods[i], probabilities[i]));
        }
        long end = System.nanoTime();
        return new Classification(p.prompt().id(), scores, p.tokens(0), p.timings(p.readyNanos(), p.readyNanos()),
                Prefilled.millis(start, end), p.plan().selection().spans(),
                p.plan().decision());
    }

    static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = Math.exp(logits[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
