package dev.pflash.pipeline.group;

import dev.pflash.pipeline.prompt.DocumentPrompt;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Groups prompts into batches for the engine: prompts with the same {@link BatchKey} (shared
 * prefix, similar length) fill a batch up to {@code batchTokens} prompt tokens. A prompt longer
 * than the budget runs in a batch of its own.
 *
 * <p>The batches stream ({@link BoundedBatches}): a full batch goes to the engine while later files
 * are still being read, and memory holds one open batch per key, not the corpus. They are then
 * shuffled: most prompts of a job share its template's prefix, so a few keys hold most of the
 * batches, and without the shuffle one worker (one GPU) would run them all.
 */
public class GroupPrompts
        extends PTransform<PCollection<DocumentPrompt>, PCollection<KV<String, Iterable<DocumentPrompt>>>> {
    /** A batch that is not full goes to the engine after this, so that slow reading never idles it. */
    static final Duration MAX_WAIT = Duration.standardSeconds(10);
    /**
     * Enough keys for every engine worker of a cluster to get batches. Not a key per batch: the
     * Direct runner keeps a watermark hold for each key it has seen until the job ends.
     */
    private static final int SPREAD_KEYS = 64;

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
                .apply("BatchByTokens", BoundedBatches.of(batchTokens, (DocumentPrompt p) -> (long) p.length())
                        .withMaxBuffering(MAX_WAIT))
                .apply("SpreadOverWorkers", Reshuffle.<KV<String, Iterable<DocumentPrompt>>>viaRandomKey()
                        .withNumBuckets(SPREAD_KEYS));
    }
}
