package dev.pflash.pipeline.group;

import dev.pflash.pipeline.prompt.DocumentPrompt;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Groups prompts into batches for the engine: prompts with the same {@link BatchKey} (shared
 * prefix, similar length) fill a batch up to {@code batchTokens} prompt tokens. A prompt longer
 * than the budget runs in a batch of its own.
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
        return prompts
                .apply("KeyByPrefixAndLength", WithKeys.of(BatchKey::of).withKeyType(TypeDescriptors.strings()))
                .setCoder(KvCoder.of(StringUtf8Coder.of(), prompts.getCoder()))
                .apply("BatchByTokens",
                        GroupIntoBatches.<String, DocumentPrompt>ofByteSize(batchTokens, p -> (long) p.length()));
    }
}
