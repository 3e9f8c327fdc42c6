package dev.pflash.runtime.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.model.Architecture;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The prefix cache's bookkeeping on hand-made KV rows: chained block keys, exact rows back, LRU
 * eviction under the byte budget, counters, thread safety. Each row's values are derived from a
 * per-sequence seed, its token and its position, so rows of the same tokens in different
 * sequences differ, as real KV does.
 */
class PrefixCacheTest {
    /** 2 layers, KV*D = 2*24 = 48 values per token per layer: 384 bytes of f16 KV per token. */
    private static final ModelConfig CONFIG = new ModelConfig("cache-test", Architecture.QWEN3, 2, 64, 96, 4, 2, 24,
            53, 1000, 1e6f, 24, 1f, 1e-6f, 0.2f, false, false, true);
    private static final int BLOCK = 4;
    private static final ElementType TYPE = KvCache.DEFAULT_TYPE;
    private static final long BLOCK_BYTES = BLOCK * CONFIG.kvBytesPerToken(TYPE);

    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @Test
    void restoresTheLongestRunOfCachedFullBlocksWithTheirExactRows() {
        PrefixCache cache = new PrefixCache(CONFIG, backend, TYPE, 100 * BLOCK_BYTES, BLOCK);
        int[] tokens = {5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
        KvCache source = filled(tokens, 1);

        assertThat(cache.store(tokens, source)).as("two full blocks; the last 2 tokens are no block").isEqualTo(2);
        KvCache restored = new KvCache(CONFIG, backend);
        assertThat(cache.restore(tokens, restored)).isEqualTo(8);
        assertThat(restored.length()).isEqualTo(8);
        assertSameRows(restored, source, 8);

        assertThat(cache.restore(Arrays.copyOf(tokens, 7), new KvCache(CONFIG, backend))).isEqualTo(4);
        int[] changedInSecondBlock = tokens.clone();
        changedInSecondBlock[5] = 40;
        assertThat(cache.restore(changedInSecondBlock, new KvCache(CONFIG, backend))).isEqualTo(4);
        int[] changedFirst = tokens.clone();
        changedFirst[0] = 40;
        assertThat(cache.restore(changedFirst, new KvCache(CONFIG, backend))).isZero();
        assertThat(cache.store(tokens, source)).as("already cached").isZero();
    }

    @Test
    void aBlockKeyDependsOnEveryTokenBeforeIt() {
        PrefixCache cache = new PrefixCache(CONFIG, backend, TYPE, 100 * BLOCK_BYTES, BLOCK);
        int[] a = {1, 2, 3, 4, 20, 21, 22, 23};
        int[] b = {9, 2, 3, 4, 20, 21, 22, 23};
        KvCache sourceA = filled(a, 1);
        KvCache sourceB = filled(b, 2);
        cache.store(a, sourceA);

        assertThat(cache.restore(b, new KvCache(CONFIG, backend))).as("same second block after another first")
                .isZero();
        cache.store(b, sourceB);
        KvCache restored = new KvCache(CONFIG, backend);
        assertThat(cache.restore(b, restored)).isEqualTo(8);
        assertSameRows(restored, sourceB, 8);
        assertThat(cache.stats().blocks()).isEqualTo(4);
        long rootA = PrefixCache.chainKey(0, a, 0, BLOCK);
        long rootB = PrefixCache.chainKey(0, b, 0, BLOCK);
        assertThat(PrefixCache.chainKey(rootA, a, BLOCK, BLOCK))
                .isNotEqualTo(PrefixCache.chainKey(rootB, b, BLOCK, BLOCK));
    }

    @Test
    void evictsTheLeastRecentlyUsedLeafToStayWithinTheBudget() {
        PrefixCache cache = new PrefixCache(CONFIG, backend, TYPE, 3 * BLOCK_BYTES, BLOCK);
        int[] x = {1, 1, 1, 1, 2, 2, 2, 2};
        int[] y = {3, 3, 3, 3, 4, 4, 4, 4};
        cache.store(x, filled(x, 1));
        cache.store(y, filled(y, 2));

        PrefixCacheStats stats = cache.stats();
        assertThat(stats.bytes()).isEqualTo(3 * BLOCK_BYTES).isLessThanOrEqualTo(stats.budgetBytes());
        assertThat(stats.evictedBlocks()).isEqualTo(1);
        // x's second block was the eldest leaf: x keeps its first block, y both of its own.
        assertThat(cache.restore(x, new KvCache(CONFIG, backend))).isEqualTo(4);
        assertThat(cache.restore(y, new KvCache(CONFIG, backend))).isEqualTo(8);
    }

    @Test
    void aBlockSharedByManyPromptsOutlivesBlocksUsedOnce() {
        PrefixCache cache = new PrefixCache(CONFIG, backend, TYPE, 4 * BLOCK_BYTES, BLOCK);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            int[] p = {7, 7, 7, 7, 10 * i, 10 * i + 1, 10 * i + 2, 10 * i + 3};
            prompts.add(p);
            cache.restore(p, new KvCache(CONFIG, backend));
            cache.store(p, filled(p, i));
            assertThat(cache.stats().bytes()).isLessThanOrEqualTo(4 * BLOCK_BYTES);
        }

        // The shared block was stored first, yet each prompt touched it since: it stays.
        assertThat(cache.restore(new int[] {7, 7, 7, 7}, new KvCache(CONFIG, backend))).isEqualTo(4);
        for (int i = 1; i <= 6; i++) {
            assertThat(cache.restore(prompts.get(i - 1), new KvCache(CONFIG, backend))).as("prompt " + i)
                    .isEqualTo(i <= 3 ? 4 : 8);
        }
        PrefixCacheStats stats = cache.stats();
        assertThat(stats.storedBlocks()).isEqualTo(7);
        assertThat(stats.evictedBlocks()).isEqualTo(3);
        assertThat(stats.blocks()).isEqualTo(4);
        assertThat(stats.lookups()).isEqualTo(13);
        assertThat(stats.lookupTokens()).isEqualTo(6 * 8 + 4 + 6 * 8);
        // prompts 2-6 found the shared block (5 * 4); then the shared block alone (4); then 3 * 4 + 3 * 8.
        assertThat(stats.hitTokens()).isEqualTo(20 + 4 + 12 + 24);
        assertThat(stats.hitRate()).isEqualTo(60.0 / 100);
    }

    @Test
    void aBudgetBelowOneBlockKeepsNothingAndAChainNeverEvictsItself() {
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8};
        PrefixCache none = new PrefixCache(CONFIG, backend, TYPE, BLOCK_BYTES - 1, BLOCK);
        assertThat(none.enabled()).isFalse();
        assertThat(none.store(tokens, filled(tokens, 1))).isZero();
        assertThat(none.restore(tokens, new KvCache(CONFIG, backend))).isZero();
        assertThat(none.stats().blocks()).isZero();

        PrefixCache one = new PrefixCache(CONFIG, backend, TYPE, BLOCK_BYTES, BLOCK);
        assertThat(one.store(tokens, filled(tokens, 1))).isEqualTo(1);
        assertThat(one.restore(tokens, new KvCache(CONFIG, backend))).isEqualTo(4);
        assertThat(one.stats().evictedBlocks()).isZero();
    }

    @Test
    void rejectsAnotherModelsCacheAndANonEmptyTarget() {
        PrefixCache cache = new PrefixCache(CONFIG, backend, TYPE, 10 * BLOCK_BYTES, BLOCK);
        ModelConfig other = new ModelConfig("other", Architecture.QWEN3, 1, 64, 96, 4, 2, 24, 53, 1000, 1e6f, 24, 1f,
                1e-6f, 0.2f, false, false, true);
        int[] tokens = {1, 2, 3, 4};
        assertThatThrownBy(() -> cache.restore(tokens, new KvCache(other, backend)))
                .hasMessage("this prefix cache holds KV of model cache-test, not of other");
        assertThatThrownBy(() -> cache.restore(tokens, filled(tokens, 1)))
                .hasMessage("a prefix is restored into an empty KV cache, not one of 4 tokens");
        assertThatThrownBy(() -> new PrefixCache(CONFIG, backend, TYPE, -1, BLOCK))
                .hasMessage("prefix cache budget must be >= 0 bytes, got -1");
    }

    @Test
    void concurrentLookupsAndStoresKeepTheBudgetAndRestoreExactRows() throws Exception {
        PrefixCache cache = new PrefixCache(CONFIG, backend, TYPE, 5 * BLOCK_BYTES, BLOCK);
        List<int[]> prompts = new ArrayList<>();
        List<KvCache> sources = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int[] p = new int[3 * BLOCK];
            int prompt = i;
            Arrays.setAll(p, j -> j < BLOCK ? prompt % 2 : 100 * prompt + j);
            prompts.add(p);
        }
        for (int i = 0; i < 8; i++) {
            // Prompts that share their first block must share its rows: build them from the first
            // prompt of their pair's rows, as a model would compute the same rows for the same prefix.
            sources.add(filled(prompts.get(i), i % 2 == 0 ? 1 : 2, i < 2 ? null : sources.get(i % 2)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = t;
                runs.add(pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    int hits = 0;
                    for (int n = 0; n < 100; n++) {
                        int i = rnd.nextInt(prompts.size());
                        KvCache into = new KvCache(CONFIG, backend);
                        int restored = cache.restore(prompts.get(i), into);
                        assertSameRows(into, sources.get(i), restored);
                        hits += restored > 0 ? 1 : 0;
                        cache.store(prompts.get(i), sources.get(i));
                    }
                    return hits;
                }));
            }
            int hits = 0;
            for (Future<Integer> run : runs) {
                hits += run.get();
            }
            assertThat(hits).isPositive();
        } finally {
            pool.shutdown();
        }
        PrefixCacheStats stats = cache.stats();
        assertThat(stats.lookups()).isEqualTo(400);
        assertThat(stats.bytes()).isEqualTo(stats.blocks() * BLOCK_BYTES).isLessThanOrEqualTo(5 * BLOCK_BYTES);
        assertThat(stats.storedBlocks() - stats.evictedBlocks()).isEqualTo(stats.blocks());
    }

    /** A cache holding one row per token, values made from the seed, the token and its position. */
    private static KvCache filled(int[] tokens, int seed) {
        return filled(tokens, seed, null);
    }

    /** As {@link #filled(int[], int)}, but rows of the first block copied from {@code firstBlockFrom} when given. */
    private static KvCache filled(int[] tokens, int seed, KvCache firstBlockFrom) {
        KvCache cache = new KvCache(CONFIG, backend);
        cache.reserve(tokens.length);
        int dim = CONFIG.kvDim();
        for (int l = 0; l < CONFIG.layers(); l++) {
            float[] k = new float[tokens.length * dim];
            float[] v = new float[tokens.length * dim];
            for (int i = 0; i < tokens.length; i++) {
                for (int j = 0; j < dim; j++) {
                    k[i * dim + j] = seed * 1000 + tokens[i] + i * 0.01f + j * 1e-4f + l;
                    v[i * dim + j] = -k[i * dim + j];
                }
            }
            if (firstBlockFrom != null) {
                float[] firstKeys = read(firstBlockFrom.keys(l), BLOCK * dim);
                float[] firstValues = read(firstBlockFrom.values(l), BLOCK * dim);
                System.arraycopy(firstKeys, 0, k, 0, firstKeys.length);
                System.arraycopy(firstValues, 0, v, 0, firstValues.length);
            }
            cache.store(l, backend.upload(k), backend.upload(v), 0, tokens.length);
        }
        cache.commit(tokens.length);
        return cache;
    }

    private static void assertSameRows(KvCache actual, KvCache expected, int tokens) {
        int floats = tokens * CONFIG.kvDim();
        for (int l = 0; l < CONFIG.layers(); l++) {
            assertThat(read(actual.keys(l), floats)).containsExactly(read(expected.keys(l), floats));
            assertThat(read(actual.values(l), floats)).containsExactly(read(expected.values(l), floats));
        }
    }

    private static float[] read(DeviceBuffer buffer, int floats) {
        float[] out = new float[floats];
        backend.read(buffer.slice(0, floats), out, 0);
        return out;
    }
}
