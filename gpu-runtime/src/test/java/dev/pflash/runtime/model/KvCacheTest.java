package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KvCacheTest {
    /** 2 layers, KV*D = 2*32 = 64 values per token per layer (two q8_0 blocks); context 1000. */
    private static final ModelConfig CONFIG = new ModelConfig("kv-test", Architecture.QWEN3, 2, 64, 96, 4, 2, 32, 53,
            1000, 1e6f, 32, 1f, 1e-6f, 0.2f, false, false, true);
    private static final int KV_DIM = 64;
    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void growsInStepsUpToTheContextAndCountsItsBytes(ElementType type) {
        KvCache cache = new KvCache(CONFIG, backend, type);
        assertThat(cache.type()).isEqualTo(type);
        assertThat(cache.keys(0).type()).isEqualTo(type);
        assertThat(cache.capacity()).isZero();
        assertThat(cache.bytes()).isZero();
        cache.reserve(10);
        assertThat(cache.capacity()).isEqualTo(256);
        assertThat(cache.bytes()).isEqualTo(256L * 2 * 2 * type.bytes(KV_DIM));
        cache.reserve(300);
        assertThat(cache.capacity()).isEqualTo(512);
        cache.reserve(900);
        assertThat(cache.capacity()).isEqualTo(1000);
        assertThatThrownBy(() -> cache.reserve(1001)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("sequence of 1001 tokens exceeds the context window of 1000 tokens of model kv-test");
    }

    /**
     * Every value stored here is exact in f16 as in f32; in q8_0 a block of equal values comes back
     * as 127 times the f16 nearest a 127th of it, within 2^-11 of it (relative).
     */
    @ParameterizedTest
    @EnumSource(ElementType.class)
    void keepsStoredRowsWhenItGrowsAndForksIndependentCopies(ElementType type) {
        KvCache cache = new KvCache(CONFIG, backend, type);
        cache.reserve(3);
        store(cache, 0, 3, 1f);
        cache.commit(3);
        cache.reserve(700);
        assertThat(cache.length()).isEqualTo(3);
        assertRow(cache.keys(1), 2, 1f * 1000 + 2 + 100);
        assertRow(cache.values(0), 1, -(1f * 1000 + 1));

        KvCache fork = cache.fork();
        assertThat(fork.length()).isEqualTo(3);
        assertThat(fork.capacity()).isEqualTo(256);
        assertThat(fork.type()).isEqualTo(type);
        cache.truncate(1);
        store(cache, 1, 2, 3f);
        cache.commit(2);
        assertRow(cache.keys(0), 2, 3f * 1000 + 2);
        assertRow(fork.keys(0), 2, 1f * 1000 + 2);
        assertRow(fork.keys(0), 0, 1f * 1000);
    }

    /** Copying into a cache that is large enough keeps its storage (the same buffers), so reuse touches no new memory. */
    @ParameterizedTest
    @EnumSource(ElementType.class)
    void copiesIntoItsOwnStorageWhenLargeEnough(ElementType type) {
        KvCache source = new KvCache(CONFIG, backend, type);
        source.reserve(2);
        store(source, 0, 2, 1.5f);
        source.commit(2);
        KvCache target = new KvCache(CONFIG, backend, type);
        target.reserve(600);
        store(target, 0, 3, 0.5f);
        target.commit(3);
        DeviceBuffer keys = target.keys(1);

        target.copyFrom(source);
        assertThat(target.length()).isEqualTo(2);
        assertThat(target.capacity()).isEqualTo(768);
        assertThat(target.keys(1)).isSameAs(keys);
        assertRow(target.keys(1), 1, 1.5f * 1000 + 1 + 100);
        assertRow(target.values(0), 0, -(1.5f * 1000));

        KvCache small = new KvCache(CONFIG, backend, type);
        small.copyFrom(target);
        assertThat(small.capacity()).isEqualTo(256);
        assertRow(small.keys(0), 1, 1.5f * 1000 + 1);
        small.copyFrom(new KvCache(CONFIG, backend, type));
        assertThat(small.length()).isZero();
        assertThat(small.capacity()).isEqualTo(256);
    }

    @Test
    void refusesToCopyACacheOfAnotherTypeOrModel() {
        KvCache f16 = new KvCache(CONFIG, backend, ElementType.F16);
        assertThatThrownBy(() -> f16.copyFrom(new KvCache(CONFIG, backend, ElementType.F32)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cannot copy a f32 cache of model kv-test into a f16 cache of model kv-test");
        ModelConfig other = new ModelConfig("other", Architecture.QWEN3, 2, 64, 96, 4, 2, 32, 53, 1000, 1e6f, 32, 1f,
                1e-6f, 0.2f, false, false, true);
        assertThatThrownBy(() -> f16.copyFrom(new KvCache(other, backend, ElementType.F16)))
                .hasMessage("cannot copy a f16 cache of model other into a f16 cache of model kv-test");
    }

    @Test
    void rejectsWritesPastTheCachedLengthOrCapacity() {
        KvCache cache = new KvCache(CONFIG, backend);
        cache.reserve(4);
        DeviceBuffer kv = backend.allocate(KV_DIM * 2);
        assertThatThrownBy(() -> cache.store(0, kv, kv, 1, 2))
                .hasMessage("cannot store 2 tokens at row 1 of a cache of 0 tokens and capacity 256");
        assertThatThrownBy(() -> cache.commit(257))
                .hasMessage("cannot commit 257 tokens to a cache of 0 tokens and capacity 256");
        assertThatThrownBy(() -> cache.truncate(1)).hasMessage("cannot truncate a cache of 0 tokens to 1");
    }

    /** Rows start..start+n-1: key = tag*1000 + row (+100 in layer 1), value = -(tag*1000 + row). */
    private static void store(KvCache cache, int start, int n, float tag) {
        for (int layer = 0; layer < 2; layer++) {
            float[] k = new float[n * KV_DIM];
            float[] v = new float[n * KV_DIM];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < KV_DIM; i++) {
                    k[r * KV_DIM + i] = tag * 1000 + start + r + 100 * layer;
                    v[r * KV_DIM + i] = -(tag * 1000 + start + r) - 100 * layer;
                }
            }
            cache.store(layer, backend.upload(k), backend.upload(v), start, n);
        }
    }

    /** Every value of {@code row} is {@code expected}: exactly, or within 2^-11 of it (relative) for q8_0. */
    private static void assertRow(DeviceBuffer storage, int row, float expected) {
        float[] out = new float[KV_DIM];
        backend.read(storage.slice(row * KV_DIM, KV_DIM), out, 0);
        if (storage.type() != ElementType.Q8_0) {
            assertThat(out).containsOnly(expected);
            return;
        }
        for (float v : out) {
            assertThat(v).isCloseTo(expected, within(Math.abs(expected) * 0x1p-11f));
        }
    }

    @Test
    void refusesQ8ForHeadsThatAreNotWholeBlocks() {
        ModelConfig narrow = new ModelConfig("narrow-heads", Architecture.QWEN3, 2, 64, 96, 4, 2, 24, 53, 1000, 1e6f,
                24, 1f, 1e-6f, 0.2f, false, false, true);
        assertThatThrownBy(() -> new KvCache(narrow, backend, ElementType.Q8_0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model narrow-heads has heads of 24 dims; a q8_0 KV cache stores blocks of 32 and needs a"
                        + " multiple of that: use f16 or f32");
    }
}
