package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.sampling.Sampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Transformer#forwardPacked}: several sequences in shared chunks give each sequence exactly
 * what a forward pass of that sequence alone gives (the CPU backend computes each row the same
 * way whatever else is in its chunk, as long as the chunks are on the same side of
 * {@link CpuBackend#PANEL_TOKENS}; across it within float rounding), and each sequence's KV lands
 * in its own cache.
 */
class PackedForwardTest {
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
    @EnumSource(value = GgmlType.class, names = {"F32", "Q8_0"})
    void packedSequencesGetExactlyTheirOwnLogitsAndKv(GgmlType type) {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 31, type);
        int vocab = TinyModel.QWEN3.vocab();
        // Cached lengths 0, 20 and 70 (the last across an attention key block); new tokens 37, 1 and 50.
        int[][] before = {{}, model.randomTokens(20, 1), model.randomTokens(70, 2)};
        int[][] after = {model.randomTokens(37, 3), model.randomTokens(1, 4), model.randomTokens(50, 5)};
        // Chunks of 16 rows: sequences split across chunks and chunks holding pieces of several sequences.
        try (Transformer packedModel = Transformer.load(model.file, backend, 16);
                Transformer t = Transformer.load(model.file, backend, 16)) {
            List<KvCache> caches = new ArrayList<>();
            List<int[]> positions = new ArrayList<>();
            for (int[] b : before) {
                KvCache c = packedModel.newCache();
                if (b.length > 0) {
                    packedModel.forward(c, b, 0, LogitsMode.NONE);
                }
                caches.add(c);
            }
            for (int s = 0; s < 3; s++) {
                int start = before[s].length;
                int[] p = new int[after[s].length];
                Arrays.setAll(p, i -> start + i);
                positions.add(p);
            }
            List<float[]> all = packedModel.forwardPacked(caches, List.of(after), positions, LogitsMode.ALL);

            for (int s = 0; s < 3; s++) {
                int[] whole = concat(before[s], after[s]);
                KvCache alone = t.newCache();
                float[] expected = t.forward(alone, whole, 0, LogitsMode.ALL);
                assertThat(all.get(s)).as("sequence " + s)
                        .containsExactly(Arrays.copyOfRange(expected, before[s].length * vocab, expected.length));
                assertThat(caches.get(s).length()).isEqualTo(whole.length);
                for (int l = 0; l < TinyModel.QWEN3.layers(); l++) {
                    assertThat(rows(caches.get(s).keys(l), whole.length))
                            .containsExactly(rows(alone.keys(l), whole.length));
                    assertThat(rows(caches.get(s).values(l), whole.length))
                            .containsExactly(rows(alone.values(l), whole.length));
                }
            }
        }
    }

    /** A decode step of fewer sequences than {@link CpuBackend#PANEL_TOKENS}: each gets its own step's bits. */
    @Test
    void lastLogitsOfABatchOfSingleTokensEqualSeparateDecodeSteps() {
        DecodeSteps steps = decodeSteps(CpuBackend.PANEL_TOKENS - 1);
        for (int s = 0; s < steps.packed.size(); s++) {
            assertThat(steps.packed.get(s)).as("sequence " + s).containsExactly(steps.separate.get(s));
        }
    }

    /**
     * Two decode steps of three sequences into the same caller-held logits arrays (one longer than
     * the vocabulary, its tail kept): each step's logits are the bits the allocating call returns.
     */
    @Test
    void decodeStepsIntoTheCallersArraysEqualTheReturnedLogits() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 35);
        try (Transformer t = Transformer.load(model.file, backend)) {
            int vocab = t.config().vocabSize();
            List<KvCache> into = List.of(t.newCache(), t.newCache(), t.newCache());
            List<KvCache> returned = List.of(t.newCache(), t.newCache(), t.newCache());
            List<float[]> arrays = List.of(new float[vocab], new float[vocab + 3], new float[vocab]);
            arrays.get(1)[vocab + 2] = 7f;
            for (int step = 0; step < 2; step++) {
                List<int[]> tokens = List.of(new int[] {1 + step}, new int[] {5 + step}, new int[] {9 + step});
                List<int[]> positions = List.of(new int[] {step}, new int[] {step}, new int[] {step});
                t.forwardPacked(into, tokens, positions, arrays);
                List<float[]> expected = t.forwardPacked(returned, tokens, positions, LogitsMode.LAST);
                for (int s = 0; s < 3; s++) {
                    assertThat(Arrays.copyOf(arrays.get(s), vocab)).as("step %d sequence %d", step, s)
                            .containsExactly(expected.get(s));
                }
            }
            assertThat(arrays.get(1)[vocab + 2]).isEqualTo(7f);
            assertThatThrownBy(() -> t.forwardPacked(into, List.of(new int[] {1}), List.of(new int[] {2}),
                    List.of(new float[vocab - 1]))).hasMessage("logits array 0 holds " + (vocab - 1)
                            + " floats, fewer than the " + vocab + " of model " + t.config().name());
        }
    }

    /**
     * A decode step of more sequences than the LM head takes at once, so the adjacent last rows go in
     * two groups; with that many tokens the matmuls run on panels, so the logits of each sequence
     * agree with its own step within float rounding and pick the same token.
     */
    @Test
    void aBatchOfManySingleTokensGetsEachSequenceItsOwnLogitsWithinRounding() {
        DecodeSteps steps = decodeSteps(70);
        for (int s = 0; s < steps.packed.size(); s++) {
            float[] packed = steps.packed.get(s);
            float[] separate = steps.separate.get(s);
            assertThat(packed).as("sequence " + s).hasSameSizeAs(separate);
            for (int i = 0; i < packed.length; i++) {
                assertThat(packed[i]).as("sequence %d logit %d", s, i).isCloseTo(separate[i], offset(1e-4f));
            }
            assertThat(Sampler.argmax(packed)).as("sequence " + s).isEqualTo(Sampler.argmax(separate));
        }
    }

    private record DecodeSteps(List<float[]> packed, List<float[]> separate) {
    }

    /** One packed decode step of {@code sequences} short prompts, and the same steps run one by one. */
    private static DecodeSteps decodeSteps(int sequences) {
        TinyModel model = TinyModel.of(TinyModel.LLAMA, 32);
        try (Transformer t = Transformer.load(model.file, backend)) {
            List<KvCache> packed = new ArrayList<>();
            List<KvCache> separate = new ArrayList<>();
            List<int[]> next = new ArrayList<>();
            List<int[]> positions = new ArrayList<>();
            for (int s = 0; s < sequences; s++) {
                int[] prompt = model.randomTokens(3 + s % 5, 100 + s);
                KvCache a = t.newCache();
                KvCache b = t.newCache();
                t.forward(a, prompt, 0, LogitsMode.NONE);
                t.forward(b, prompt, 0, LogitsMode.NONE);
                packed.add(a);
                separate.add(b);
                next.add(model.randomTokens(1, 200 + s));
                positions.add(new int[] {prompt.length});
            }
            List<float[]> last = t.forwardPacked(packed, next, positions, LogitsMode.LAST);
            List<float[]> none = t.forwardPacked(packed.subList(0, 2), next.subList(0, 2),
                    List.of(new int[] {positions.get(0)[0] + 1}, new int[] {positions.get(1)[0] + 1}), LogitsMode.NONE);
            List<float[]> alone = new ArrayList<>();
            for (int s = 0; s < sequences; s++) {
                alone.add(t.forward(separate.get(s), next.get(s), positions.get(s), LogitsMode.LAST));
            }
            assertThat(none).allSatisfy(l -> assertThat(l).isEmpty());
            assertThat(packed.get(0).length()).isEqualTo(separate.get(0).length() + 1);
            packed.forEach(KvCache::close);
            separate.forEach(KvCache::close);
            return new DecodeSteps(last, alone);
        }
    }

    @Test
    void badBatchesAreRejectedBeforeAnyCacheChanges() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 33);
        try (Transformer t = Transformer.load(model.file, backend)) {
            KvCache a = t.newCache();
            KvCache b = t.newCache();
            int[] one = {1};
            int[] zero = {0};
            assertThatThrownBy(() -> t.forwardPacked(List.of(a, a), List.of(one, one), List.of(zero, zero),
                    LogitsMode.LAST)).hasMessage("sequence 1 shares its KV cache with an earlier sequence; each"
                            + " sequence needs its own");
            assertThatThrownBy(() -> t.forwardPacked(List.of(a, b), List.of(one), List.of(zero, zero),
                    LogitsMode.LAST)).hasMessage("2 caches, 1 token lists and 2 position lists: give one of each per"
                            + " sequence");
            assertThatThrownBy(() -> t.forwardPacked(List.of(a, b), List.of(one, new int[] {999}),
                    List.of(zero, zero), LogitsMode.LAST)).hasMessageContaining("token id 999 at index 0");
            assertThat(a.length()).isZero();
            assertThat(b.length()).isZero();
        }
    }

    private static float[] rows(DeviceBuffer buffer, int tokens) {
        int floats = tokens * TinyModel.QWEN3.kvHeads() * TinyModel.QWEN3.headDim();
        float[] out = new float[floats];
        backend.read(buffer.slice(0, floats), out, 0);
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
