package dev.pflash.runtime.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The seam between the runtime and the pipeline: prompt segments in; text, token counts, key spans
 * and stage timings out. One engine per JVM serves every caller; implementations serialize or
 * batch calls into one device, so callers may call from any thread.
 */
public interface Engine extends AutoCloseable {
    EngineInfo info();

    /**
     * Frames the prompt with the target's chat template and tokenizes each segment. The template's
     * fixed head joins the prefix and its tail joins the suffix.
     */
    Prompt tokenize(String id, PromptText text);

    /** Tokenizes plain text with the target's tokenizer, special tokens parsed, no template. */
    int[] encode(String text);

    /** Decodes target token ids to text. */
    String detokenize(int[] tokens);

    /** Prefills and decodes one prompt; throws when this prompt cannot run (too long, bad token). */
    EngineResult generate(Prompt prompt, GenerationSettings settings);

    /**
     * Runs a batch of prompts (typically sharing a prefix); a failing prompt becomes a failed
     * outcome and the others go on. Outcomes come back in input order. The prompts of a batch may
     * run together: each result's TTFT and decode time are then its latency from the start of the
     * batch, so that a batch takes as long as its slowest result's TTFT plus decode time.
     */
    default List<EngineOutcome> generateBatch(List<Prompt> prompts, GenerationSettings settings) {
        List<EngineOutcome> out = new ArrayList<>(prompts.size());
        for (Prompt p : prompts) {
            try {
                out.add(EngineOutcome.ok(generate(p, settings)));
            } catch (RuntimeException e) {
                out.add(EngineOutcome.failed(p.id(), e));
            }
        }
        return out;
    }

    /**
     * Scores each label as the answer that follows the prompt: the log-likelihood of the label's
     * tokens after the prompt, and the probabilities those give normalized over the labels. The
     * prompt is prefilled once; every label is scored on its KV.
     *
     * @throws IllegalArgumentException for an empty label list or a blank or repeated label, or
     *     when this prompt cannot run (too long, bad token)
     */
    Classification classify(Prompt prompt, List<String> labels);

    /**
     * Classifies a batch of prompts (typically sharing a prefix) against the same labels; a
     * failing prompt becomes a failed outcome and the others go on. Outcomes come back in input
     * order. A label list that {@link #classify} rejects is rejected up front with an
     * {@link IllegalArgumentException}, or fails every prompt.
     */
    default List<ClassificationOutcome> classifyBatch(List<Prompt> prompts, List<String> labels) {
        List<ClassificationOutcome> out = new ArrayList<>(prompts.size());
        for (Prompt p : prompts) {
            try {
                out.add(ClassificationOutcome.ok(classify(p, labels)));
            } catch (RuntimeException e) {
                out.add(ClassificationOutcome.failed(p.id(), e));
            }
        }
        return out;
    }

    @Override
    void close();
}
