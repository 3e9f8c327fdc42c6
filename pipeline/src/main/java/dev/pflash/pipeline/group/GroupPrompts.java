package dev.pflash.pipeline.group;

import dev.pflash.pipeline.prompt.DocumentPrompt;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Groups prompts into batches for the engine: prompts with the same {@link BatchKey} (shared
 * prefix, similar length) fill a batch up to {@code batchTokens} prompt tokens. A prompt longer
 * than the budget runs in a batch of its own.
 *
 * <p>The batches are cut from a plain {@link GroupByKey}, which every runner supports
 * ({@code GroupIntoBatches} needs window-expiration timers that the Spark runner lacks), then
 * shuffled: most prompts of a job share its template's prefix, so a few keys hold most of the
 * batches, and without the shuffle one worker (one GPU) would run them all.
 */
public class GroupPrompts
        extends PTransform<PCollection<DocumentPrompt>, PCollection<KV<String, Iterable<DocumentPrompt>>>> {
    private final long batchTokens;

    public GroupPrompts(long batchTokens) {
        if (batchTokens < 1) {
            throw new IllegalArgumentException("--batch-tokens must be at least 1, got " + batchTokens);
        }
        this.batchTokens = batchTokens;
    }

    @Override
    public PCollection<KV<String, Iterable<DocumentPrompt>>> expand(PCollection<DocumentPrompt> prompts) {
        Coder<DocumentPrompt> promptCoder = prompts.getCoder();
        return prompts
                .apply("KeyByPrefixAndLength", WithKeys.of(BatchKey::of).withKeyType(TypeDescriptors.strings()))
                .setCoder(KvCoder.of(StringUtf8Coder.of(), promptCoder))
                .apply("GroupByKey", GroupByKey.create())
                .apply("BatchByTokens", ParDo.of(new BatchByTokensFn(batchTokens)))
                .setCoder(KvCoder.of(StringUtf8Coder.of(), IterableCoder.of(promptCoder)))
                .apply("SpreadOverWorkers", Reshuffle.viaRandomKey());
    }

    /** Cuts one key's prompts into batches, in one pass, so that a large group is never held whole. */
    private static final class BatchByTokensFn
            extends DoFn<KV<String, Iterable<DocumentPrompt>>, KV<String, Iterable<DocumentPrompt>>> {
        private final long batchTokens;

        BatchByTokensFn(long batchTokens) {
            this.batchTokens = batchTokens;
        }

        @ProcessElement
        public void process(@Element KV<String, Iterable<DocumentPrompt>> group,
                OutputReceiver<KV<String, Iterable<DocumentPrompt>>> out) {
            List<DocumentPrompt> batch = new ArrayList<>();
            long tokens = 0;
            for (DocumentPrompt prompt : group.getValue()) {
                if (!batch.isEmpty() && tokens + prompt.length() > batchTokens) {
                    out.output(KV.of(group.getKey(), batch));
                    batch = new ArrayList<>();
                    tokens = 0;
                }
                batch.add(prompt);
                tokens += prompt.length();
            }
            if (!batch.isEmpty()) {
                out.output(KV.of(group.getKey(), batch));
            }
        }
    }
}
