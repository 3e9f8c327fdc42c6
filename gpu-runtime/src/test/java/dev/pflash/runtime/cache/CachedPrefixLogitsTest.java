package dev.pflash.runtime.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.SyntheticModels;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Logits after a prefix cache hit equal logits computed from scratch, exactly: the cached rows are
 * the rows the prefix's own prefill wrote, and the CPU backend computes every row the same way
 * whatever the chunk around it, so continuing from restored rows repeats the same float
 * operations in the same order. (The demo models of the engine tests show the same for quantized
 * weights.)
 */
class CachedPrefixLogitsTest {
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
    void logitsAfterACacheHitEqualLogitsFromScratch(ElementType type) {
        try (ModelFile file = SyntheticModels.open("synthetic:cpu-drafter?type=F32&ctx=512");
                Transformer model = Transformer.load(file, backend)) {
            int vocab = model.config().vocabSize();
            int[] prompt = randomTokens(200, vocab, 3);
            int[] prefix = Arrays.copyOf(prompt, 150);
            float[] scratch = model.forward(model.newCache(type), prompt, 0, LogitsMode.ALL);

            PrefixCache cache = new PrefixCache(model.config(), backend, type, 1L << 26, 64);
            KvCache first = model.newCache(type);
            model.forward(first, prefix, 0, LogitsMode.NONE);
            assertThat(cache.store(prefix, first)).isEqualTo(2);

            KvCache warm = model.newCache(type);
            int hit = cache.restore(prefix, warm);
            assertThat(hit).isEqualTo(128);
            int[] rest = Arrays.copyOfRange(prompt, hit, prompt.length);
            int[] positions = new int[rest.length];
            Arrays.setAll(positions, i -> hit + i);
            float[] continued = model.forward(warm, rest, positions, LogitsMode.ALL);

            float[] expected = Arrays.copyOfRange(scratch, hit * vocab, scratch.length);
            assertThat(Arrays.mismatch(continued, expected)).as("index of the first logit that differs").isEqualTo(-1);
        }
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        Arrays.setAll(t, i -> rnd.nextInt(vocab));
        return t;
    }
}
