package dev.pflash.runtime.engine;

import dev.pflash.runtime.cache.PrefixCache;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.Transformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Target prefill of prompts that share a prefix. The prefix's KV is made once: what the prefix
 * cache holds is restored, the rest of the prefix is computed, and its new full blocks are stored
 * back. Each prompt then gets a cache of its own that starts as a copy of those rows (the last
 * prompt takes the original), and what follows the prefix in every prompt goes through the target
 * in one packed forward pass. Only prefix tokens ever enter the prefix cache: the body may be
 * compressed and the suffix differs, so nothing after the prefix is shared across prompts.
 *
 * <p>Every op computes a token's row the same way whatever else is in its chunk (on the CPU
 * backend to the last bit), so a prompt gets the logits it would get prefilled alone from
 * scratch, whether its prefix came from the cache, from its batch, or from its own computation.
 *
 * <p>A hybrid model's recurrent state cannot be cut back, so every prompt continues from the same
 * shared length, and the prefix cache resumes it only at {@link Transformer#resumeAlignment()}ed
 * block ends: the prefix is prefilled in two calls split there, the first one's end stored with a
 * snapshot of the state, so that its DeltaNet chunks fall where they fall without the cache.
 */
final class SharedPrefixPrefill {
    private final Transformer target;
    private final PrefixCache prefixes;

    SharedPrefixPrefill(Transformer target, PrefixCache prefixes) {
        this.target = target;
        this.prefixes = prefixes;
    }

    /**
     * Prefills {@code plans}, which all begin with {@code prefix}, leaving room for
     * {@code extraTokens} more in each cache. The first plan is charged with the lookup and the
     * computation of the shared prefix; every plan with its share of the packed pass, in
     * proportion to its tokens, so that per-prompt times add up to the batch's.
     *
     * @param startNanos when the batch began (TTFT counts from there)
     */
    List<Prefilled> run(int[] prefix, List<PrefillPlan> plans, int extraTokens, long startNanos) {
        int context = target.config().contextLength();
        int last = plans.size() - 1;
        List<KvCache> caches = new ArrayList<>(plans.size());
        KvCache shared = target.newCache(prefixes.type());
        try {
            shared.reserve(Math.min(context, plans.get(last).sequence().length + extraTokens));
            long lookupStart = System.nanoTime();
            // A prompt that is all prefix still needs its last token run, for its logits. A hybrid
            // model's state cannot be cut back, so there every prompt continues from the same row.
            boolean hybrid = target.config().hybrid().isPresent();
            int[] kept = new int[plans.size()];
            int common = prefix.length;
            for (int j = 0; j <= last; j++) {
                kept[j] = plans.get(j).sequence().length > prefix.length ? prefix.length : prefix.length - 1;
                common = Math.min(common, kept[j]);
            }
            if (hybrid) {
                Arrays.fill(kept, common);
            } else {
                common = prefix.length;
            }
            int[] sharedTokens = Arrays.copyOf(prefix, common);
            int hit = common == 0 ? 0 : prefixes.restore(sharedTokens, shared);
            long looked = System.nanoTime();
            if (hit < common) {
                if (hybrid) {
                    int alignment = lcm(target.resumeAlignment(), prefixes.blockTokens());
                    int snapshotAt = common / alignment * alignment;
                    if (snapshotAt > hit) {
                        prefillPrefix(shared, sharedTokens, hit, snapshotAt);
                        prefixes.store(Arrays.copyOf(sharedTokens, snapshotAt), shared);
                    }
                    prefillPrefix(shared, sharedTokens, shared.length(), common);
                } else {
                    prefillPrefix(shared, sharedTokens, hit, common);
                    prefixes.store(sharedTokens, shared);
                }
            }
            long computed = System.nanoTime();

            List<int[]> rests = new ArrayList<>(plans.size());
            List<int[]> restPositions = new ArrayList<>(plans.size());
            long restTokens = 0;
            for (int j = 0; j <= last; j++) {
                PrefillPlan plan = plans.get(j);
                int length = plan.sequence().length;
                caches.add(j == last ? shared : copyOf(shared, kept[j], Math.min(context, length + extraTokens)));
                rests.add(Arrays.copyOfRange(plan.sequence(), kept[j], length));
                restPositions.add(Arrays.copyOfRange(plan.positions(), kept[j], length));
                restTokens += length - kept[j];
            }
            if (!hybrid) {
                shared.truncate(kept[last]);
            }
            List<float[]> logits = target.forwardPacked(caches, rests, restPositions, LogitsMode.LAST);
            long done = System.nanoTime();

            double packedMs = Prefilled.millis(computed, done);
            List<Prefilled> out = new ArrayList<>(plans.size());
            for (int j = 0; j <= last; j++) {
                boolean first = j == 0;
                double prefillMs = (first ? Prefilled.millis(looked, computed) : 0)
                        + packedMs * rests.get(j).length / restTokens;
                out.add(new Prefilled(plans.get(j), caches.get(j), logits.get(j), first ? Math.min(hit, kept[j]) : kept[j],
                        startNanos, done, first ? Prefilled.millis(lookupStart, looked) : 0, prefillMs));
            }
            return out;
        } catch (RuntimeException e) {
            for (KvCache c : caches) {
                if (c != shared) {
                    c.close();
                }
            }
            shared.close();
            throw e;
        }
    }

    private void prefillPrefix(KvCache cache, int[] tokens, int from, int to) {
        if (from < to) {
            int[] positions = new int[to - from];
            Arrays.setAll(positions, i -> from + i);
            target.forward(cache, Arrays.copyOfRange(tokens, from, to), positions, LogitsMode.NONE);
        }
    }

    /**
     * A new cache of {@code capacity} tokens holding a copy of the first {@code rows} rows of
     * {@code source} and its recurrent state (then {@code rows} must be all of them).
     */
    private KvCache copyOf(KvCache source, int rows, int capacity) {
        KvCache copy = target.newCache(source.type());
        copy.reserve(capacity);
        if (rows > 0) {
            int floats = rows * target.config().kvDim();
            for (int l = 0; l < target.config().layers(); l++) {
                if (target.config().layerKind(l).hasKvCache()) {
                    copy.store(l, source.keys(l).slice(0, floats), source.values(l).slice(0, floats), 0, rows);
                }
            }
            copy.commit(rows);
        }
        source.recurrent().ifPresent(state -> copy.recurrent().orElseThrow().copyFrom(state));
        return copy;
    }

    private static int lcm(int a, int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            int r = x % y;
            x = y;
            y = r;
        }
        return a / x * b;
    }
}
