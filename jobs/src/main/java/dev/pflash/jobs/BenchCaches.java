package dev.pflash.jobs;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.Transformer;
import java.util.ArrayList;
import java.util.List;

/**
 * The KV caches of one {@code bench} test: one per sequence, made once for all its runs and sized
 * for its longest sequence, as llama-bench makes one context per test. Fresh caches per run would
 * also time the first touch of their memory (the kernel's page clearing, 9% of a pp512 run on
 * {@code synthetic:qwen3-0.6b}), which a long job pays only until its heap has been used once.
 */
final class BenchCaches implements AutoCloseable {
    private final List<KvCache> sequences;
    /** Never written: copying it empties a cache, a hybrid model's recurrent state included. */
    private final KvCache empty;

    private BenchCaches(List<KvCache> sequences, KvCache empty) {
        this.sequences = sequences;
        this.empty = empty;
    }

    static BenchCaches of(Transformer model, ElementType kvType, BenchTest test) {
        List<KvCache> made = new ArrayList<>(test.sequences() + 1);
        try {
            for (int s = 0; s <= test.sequences(); s++) {
                made.add(model.newCache(kvType));
            }
            for (int s = 0; s < test.sequences(); s++) {
                made.get(s).reserve(test.contextTokens());
            }
            return new BenchCaches(List.copyOf(made.subList(0, test.sequences())), made.get(test.sequences()));
        } catch (RuntimeException | Error e) {
            made.forEach(KvCache::close);
            throw e;
        }
    }

    /** The caches of the test's sequences, in order. */
    List<KvCache> sequences() {
        return sequences;
    }

    /** Empties the first sequence's cache, the start of every run. */
    KvCache emptyFirst() {
        KvCache first = sequences.get(0);
        first.copyFrom(empty);
        return first;
    }

    @Override
    public void close() {
        sequences.forEach(KvCache::close);
        empty.close();
    }
}
