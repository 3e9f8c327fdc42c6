package dev.pflash.pipeline.generate;

import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.runtime.engine.Prompt;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine batch call for a batch of document prompts (generate or classify), with its
 * outcomes paired to their prompts. When the call fails as a whole, or answers with the wrong
 * number of outcomes, every prompt of the batch fails with that error.
 */
public final class BatchCall {
    private static final Logger LOG = LoggerFactory.getLogger(BatchCall.class);

    private BatchCall() {
    }

    /**
     * Calls {@code engine} with the prompts' engine view, then hands each prompt and its outcome to
     * {@code each}, in order; or each prompt and the error to {@code failed}.
     */
    public static <O> void run(List<DocumentPrompt> prompts, Function<List<Prompt>, List<O>> engine,
            BiConsumer<DocumentPrompt, O> each, BiConsumer<DocumentPrompt, RuntimeException> failed) {
        List<O> outcomes;
        try {
            outcomes = engine.apply(prompts.stream().map(DocumentPrompt::toPrompt).toList());
            if (outcomes.size() != prompts.size()) {
                throw new IllegalStateException("the engine returned " + outcomes.size() + " outcomes for a batch of "
                        + prompts.size() + " prompts");
            }
        } catch (RuntimeException e) {
            LOG.warn("A batch of {} prompts failed as a whole: {}", prompts.size(), e.toString());
            prompts.forEach(p -> failed.accept(p, e));
            return;
        }
        for (int i = 0; i < prompts.size(); i++) {
            each.accept(prompts.get(i), outcomes.get(i));
        }
    }
}
