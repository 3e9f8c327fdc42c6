package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufFile;
import dev.pflash.runtime.gguf.GgufValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A qwen35 hybrid model ({@link TinyHybridModel}, written as a GGUF file) through the one forward
 * loop: it matches the naive reference, gives the same logits prefilled in one chunk, in chunks,
 * token by token and packed with other sequences, and a corrupted file fails at load naming what
 * is wrong.
 */
class HybridTransformerTest {
    private static final int VOCAB = TinyHybridModel.VOCAB;
    private static CpuBackend backend;
    private static TinyHybridModel model;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        backend = new CpuBackend(2);
        model = new TinyHybridModel(7);
    }

    @AfterAll
    static void stop() {
        backend.close();
    }

    private static Transformer load(Path file, int chunkSize) {
        return Transformer.load(GgufFile.open(file), backend, chunkSize);
    }

    @Test
    void loadsLayerKindsAndSkipsTheMtpBlock() {
        try (Transformer t = load(model.write(dir.resolve("kinds.gguf")), 512)) {
            ModelConfig c = t.config();
            assertThat(c.layers()).isEqualTo(4);
            assertThat(List.of(c.layerKind(0), c.layerKind(1), c.layerKind(2), c.layerKind(3))).containsExactly(
                    LayerKind.DELTA_NET, LayerKind.GATED_ATTENTION, LayerKind.DELTA_NET, LayerKind.GATED_ATTENTION);
            assertThat(c.ropeDims()).isEqualTo(8);
            assertThat(c.kvBytesPerToken(ElementType.F32)).isEqualTo(2L * 2 * 32 * Float.BYTES);
            assertThat(t.weights().block(0)).isInstanceOf(DeltaNetWeights.class);
            assertThat(t.weights().block(1)).isInstanceOf(LayerWeights.class);
            try (KvCache cache = t.newCache()) {
                assertThat(cache.recurrent()).isPresent();
                assertThat(cache.recurrent().get().bytes()).isEqualTo(c.recurrentStateBytes())
                        .isEqualTo(2L * (4 * 8 * 8 + 3 * 64) * Float.BYTES);
            }
        }
    }

    @Test
    void matchesTheNaiveReference() {
        int[] tokens = TinyHybridModel.randomTokens(70, 1);
        double[][] expected = new NaiveHybrid(model).logits(tokens);
        // An f32 cache: the reference keeps keys and values in full precision.
        try (Transformer t = load(model.write(dir.resolve("naive.gguf")), 512);
                KvCache cache = t.newCache(ElementType.F32)) {
            float[] logits = t.forward(cache, tokens, 0, LogitsMode.ALL);
            for (int i = 0; i < tokens.length; i++) {
                for (int v = 0; v < VOCAB; v++) {
                    assertThat((double) logits[i * VOCAB + v]).as("token %d logit %d", i, v)
                            .isCloseTo(expected[i][v], within(2e-3));
                }
            }
        }
    }

    @Test
    void oneChunkStepsAndSmallChunksAgree() {
        int[] tokens = TinyHybridModel.randomTokens(150, 2);
        Path file = model.write(dir.resolve("chunks.gguf"));
        // f32 caches: the recurrent and chunked delta rule differ in the last bits, and rounding keys
        // to f16 would magnify that into differences of an f16 step.
        try (Transformer whole = load(file, 512); Transformer small = load(file, 13);
                KvCache a = whole.newCache(ElementType.F32); KvCache b = small.newCache(ElementType.F32);
                KvCache c = whole.newCache(ElementType.F32)) {
            float[] once = whole.forward(a, tokens, 0, LogitsMode.ALL);
            float[] chunked = small.forward(b, tokens, 0, LogitsMode.ALL);
            float[] steps = new float[tokens.length * VOCAB];
            for (int i = 0; i < tokens.length; i++) {
                float[] last = whole.forward(c, new int[] {tokens[i]}, i, LogitsMode.LAST);
                System.arraycopy(last, 0, steps, i * VOCAB, VOCAB);
            }
            assertClose(chunked, once, 1e-4f, "chunks of 13");
            assertClose(steps, once, 1e-4f, "token by token");
            assertThat(a.length()).isEqualTo(b.length()).isEqualTo(c.length()).isEqualTo(tokens.length);
        }
    }

    @Test
    void packedSequencesGetTheirOwnLogitsAndState() {
        int[][] before = {{}, TinyHybridModel.randomTokens(20, 3), TinyHybridModel.randomTokens(70, 4)};
        int[][] after = {TinyHybridModel.randomTokens(37, 5), TinyHybridModel.randomTokens(1, 6),
                TinyHybridModel.randomTokens(50, 7)};
        Path file = model.write(dir.resolve("packed.gguf"));
        try (Transformer packed = load(file, 16); Transformer t = load(file, 512)) {
            List<KvCache> caches = new ArrayList<>();
            List<int[]> positions = new ArrayList<>();
            for (int s = 0; s < 3; s++) {
                KvCache c = packed.newCache();
                if (before[s].length > 0) {
                    packed.forward(c, before[s], 0, LogitsMode.NONE);
                }
                caches.add(c);
                int start = before[s].length;
                int[] p = new int[after[s].length];
                Arrays.setAll(p, i -> start + i);
                positions.add(p);
            }
            List<float[]> all = packed.forwardPacked(caches, List.of(after), positions, LogitsMode.ALL);
            for (int s = 0; s < 3; s++) {
                int[] whole = new int[before[s].length + after[s].length];
                System.arraycopy(before[s], 0, whole, 0, before[s].length);
                System.arraycopy(after[s], 0, whole, before[s].length, after[s].length);
                try (KvCache alone = t.newCache()) {
                    float[] expected = t.forward(alone, whole, 0, LogitsMode.ALL);
                    assertClose(all.get(s), Arrays.copyOfRange(expected, before[s].length * VOCAB, expected.length),
                            1e-4f, "sequence " + s);
                    float[] stateA = read(caches.get(s).recurrent().orElseThrow().ssm(2).size(),
                            caches.get(s).recurrent().get().ssm(2));
                    float[] stateB = read(stateA.length, alone.recurrent().orElseThrow().ssm(2));
                    assertClose(stateA, stateB, 1e-5f, "sequence " + s + " layer 2 state");
                }
                caches.get(s).close();
            }
        }
    }

    @Test
    void forkedCacheContinuesLikeTheOriginal() {
        int[] prompt = TinyHybridModel.randomTokens(40, 8);
        int[] more = TinyHybridModel.randomTokens(5, 9);
        try (Transformer t = load(model.write(dir.resolve("fork.gguf")), 512); KvCache c = t.newCache()) {
            t.forward(c, prompt, 0, LogitsMode.NONE);
            try (KvCache copy = c.fork()) {
                float[] fromCopy = t.forward(copy, more, prompt.length, LogitsMode.ALL);
                float[] fromOriginal = t.forward(c, more, prompt.length, LogitsMode.ALL);
                assertThat(fromCopy).containsExactly(fromOriginal);
            }
            assertThatThrownBy(() -> c.truncate(10)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("recurrent state cannot be cut back");
        }
    }

    /** A used cache refilled by copying: from an empty cache it starts over, from another it continues that one. */
    @Test
    void aCacheCopiedIntoAUsedOneReplacesItsStateToo() {
        int[] prompt = TinyHybridModel.randomTokens(40, 10);
        int[] other = TinyHybridModel.randomTokens(30, 11);
        int[] more = TinyHybridModel.randomTokens(5, 12);
        try (Transformer t = load(model.write(dir.resolve("copy.gguf")), 512); KvCache fresh = t.newCache();
                KvCache empty = t.newCache(); KvCache used = t.newCache()) {
            float[] expected = t.forward(fresh, prompt, 0, LogitsMode.ALL);
            t.forward(used, other, 0, LogitsMode.NONE);
            used.copyFrom(empty);
            assertThat(used.length()).isZero();
            assertThat(t.forward(used, prompt, 0, LogitsMode.ALL)).containsExactly(expected);

            t.forward(used, more, prompt.length, LogitsMode.NONE);
            used.copyFrom(fresh);
            assertThat(used.length()).isEqualTo(prompt.length);
            float[] continued = t.forward(fresh, more, prompt.length, LogitsMode.ALL);
            assertThat(t.forward(used, more, prompt.length, LogitsMode.ALL)).containsExactly(continued);
        }
    }

    @Test
    void missingTensorIsNamed() {
        Path bad = model.write(dir.resolve("missing.gguf"), m -> m.tensors.remove("blk.2.ssm_a"));
        assertThatThrownBy(() -> load(bad, 512)).isInstanceOf(GgufException.class)
                .hasMessageContaining("missing.gguf").hasMessageContaining("blk.2.ssm_a");
    }

    @Test
    void intervalThatContradictsTheTensorsIsNamed() {
        Path bad = model.write(dir.resolve("interval.gguf"),
                m -> m.metadata.put("qwen35.full_attention_interval", GgufValue.ofUInt32(4)));
        assertThatThrownBy(() -> load(bad, 512)).isInstanceOf(GgufException.class)
                .hasMessageContaining("layer 1 has blk.1.attn_q.weight")
                .hasMessageContaining("full_attention_interval = 4");
    }

    @Test
    void misshapenTensorIsNamed() {
        Path bad = model.write(dir.resolve("shape.gguf"), m -> m.put("blk.0.ssm_conv1d.weight",
                new long[] {3, TinyHybridModel.CHANNELS}, new float[3 * TinyHybridModel.CHANNELS]));
        assertThatThrownBy(() -> load(bad, 512)).isInstanceOf(GgufException.class)
                .hasMessageContaining("blk.0.ssm_conv1d.weight").hasMessageContaining("[3, 64]")
                .hasMessageContaining("[4, 64]");
    }

    private static float[] read(int n, dev.pflash.runtime.backend.DeviceBuffer b) {
        float[] out = new float[n];
        backend.read(b, out, 0);
        return out;
    }

    private static void assertClose(float[] actual, float[] expected, float tolerance, String what) {
        assertThat(actual).as(what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("%s [%d]", what, i).isCloseTo(expected[i], within(tolerance));
        }
    }
}
