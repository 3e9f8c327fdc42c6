package dev.pflash.pipeline.group;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * Cuts each key's values into batches of at most {@code maxWeight} (a value heavier than that is a
 * batch of its own), streaming: a batch leaves as soon as it is full, or after
 * {@code maxBuffering}, so that memory holds at most one open batch per key, never the whole
 * input. This is {@link GroupIntoBatches}, which needs state and timers; the Spark runner has no
 * timers in batch mode, so there the values of a key are grouped with {@link GroupByKey} (which
 * Spark shuffles through its disk) and cut in one pass.
 */
public final class BoundedBatches<V> extends PTransform<PCollection<KV<String, V>>, PCollection<KV<String, Iterable<V>>>> {
    private final long maxWeight;
    private final SerializableFunction<V, Long> weigher;
    private final Duration maxBuffering;

    private BoundedBatches(long maxWeight, SerializableFunction<V, Long> weigher, Duration maxBuffering) {
        if (maxWeight < 1) {
            throw new IllegalArgumentException("a batch must hold a weight of at least 1, got " + maxWeight);
        }
        this.maxWeight = maxWeight;
        this.weigher = weigher;
        this.maxBuffering = maxBuffering;
    }

    /** Batches of at most {@code maxWeight}, by {@code weigher}; a batch waits for its last value. */
    public static <V> BoundedBatches<V> of(long maxWeight, SerializableFunction<V, Long> weigher) {
        return new BoundedBatches<>(maxWeight, weigher, null);
    }

    /** As {@link #of}, but a batch leaves, full or not, once its first value has waited {@code maxBuffering}. */
    public BoundedBatches<V> withMaxBuffering(Duration value) {
        return new BoundedBatches<>(maxWeight, weigher, value);
    }

    /** Whether the pipeline's runner is one whose batch mode lacks the timers {@link GroupIntoBatches} needs. */
    static boolean lacksTimers(PCollection<?> input) {
        return input.getPipeline().getOptions().getRunner().getName().contains("Spark");
    }

    @Override
    public PCollection<KV<String, Iterable<V>>> expand(PCollection<KV<String, V>> input) {
        Coder<V> valueCoder = ((KvCoder<String, V>) input.getCoder()).getValueCoder();
        KvCoder<String, Iterable<V>> outCoder = KvCoder.of(StringUtf8Coder.of(), IterableCoder.of(valueCoder));
        if (lacksTimers(input)) {
            return input.apply("GroupByKey", GroupByKey.create())
                    .apply("CutBatches", ParDo.of(new CutFn<V>(maxWeight, weigher)))
                    .setCoder(outCoder);
        }
        GroupIntoBatches<String, V> batches = GroupIntoBatches.ofByteSize(maxWeight, weigher);
        if (maxBuffering != null) {
            batches = batches.withMaxBufferingDuration(maxBuffering);
        }
        return input.apply("GroupIntoBatches", batches).setCoder(outCoder);
    }

    /** Cuts one key's values into batches, in one pass, so that a large group is never held whole. */
    private static final class CutFn<V> extends DoFn<KV<String, Iterable<V>>, KV<String, Iterable<V>>> {
        private final long maxWeight;
        private final SerializableFunction<V, Long> weigher;

        CutFn(long maxWeight, SerializableFunction<V, Long> weigher) {
            this.maxWeight = maxWeight;
            this.weigher = weigher;
        }

        @ProcessElement
        public void process(@Element KV<String, Iterable<V>> group, OutputReceiver<KV<String, Iterable<V>>> out) {
            List<V> batch = new ArrayList<>();
            long weight = 0;
            for (V value : group.getValue()) {
                long valueWeight = weigher.apply(value);
                if (!batch.isEmpty() && weight + valueWeight > maxWeight) {
                    out.output(KV.of(group.getKey(), batch));
                    batch = new ArrayList<>();
                    weight = 0;
                }
                batch.add(value);
                weight += valueWeight;
            }
            if (!batch.isEmpty()) {
                out.output(KV.of(group.getKey(), batch));
            }
        }
    }
}
