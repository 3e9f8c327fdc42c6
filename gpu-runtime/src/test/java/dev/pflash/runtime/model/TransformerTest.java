package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufValue;
import dev.pflash.runtime.gguf.InMemoryModelFile;
import dev.pflash.runtime.gguf.TensorData;
import dev.pflash.runtime.sampling.Sampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class TransformerTest {
    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(3);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    static Stream<TinyModel.Spec> architectures() {
        return Stream.of(TinyModel.QWEN3, TinyModel.LLAMA, TinyModel.QWEN2);
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void promptLogitsAgreeWithTheNaiveReference(TinyModel.Spec spec) {
        TinyModel model = TinyModel.of(spec, 11);
        // 90 tokens: the prefill kernels (transposed matmul, tiled attention over two key blocks).
        int[] tokens = model.randomTokens(90, 5);
        double[][] expected = new NaiveTransformer(model).logits(tokens);
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] all = t.forward(t.newCache(ElementType.F32), tokens, 0, LogitsMode.ALL);
            for (int p : new int[] {0, 1, 17, 63, 64, 65, 89}) {
                assertClose(Arrays.copyOfRange(all, p * spec.vocab(), (p + 1) * spec.vocab()), expected[p], 1e-4,
                        "position " + p);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void decodeStepsAgreeWithTheNaiveReference(TinyModel.Spec spec) {
        TinyModel model = TinyModel.of(spec, 12);
        int[] tokens = model.randomTokens(24, 6);
        double[][] expected = new NaiveTransformer(model).logits(tokens);
        try (Transformer t = Transformer.load(model.file, backend)) {
            KvCache cache = t.newCache(ElementType.F32);
            t.prefill(cache, Arrays.copyOf(tokens, 3));
            for (int p = 3; p < tokens.length; p++) {
                float[] logits = t.forward(cache, new int[] {tokens[p]}, p, LogitsMode.LAST);
                assertClose(logits, expected[p], 1e-4, "decode position " + p);
            }
            assertThat(cache.length()).isEqualTo(tokens.length);
        }
    }

    /**
     * Chunkings of one kind give the same logits to the last bit: single-token steps and chunks of
     * fewer than {@link CpuBackend#PANEL_TOKENS} tokens on one side, the whole prompt and chunks of
     * at least that many on the other. Across the kinds the vector matmuls add in different orders,
     * so there the logits agree within rounding and every position picks the same greedy token.
     */
    @ParameterizedTest
    @MethodSource("architectures")
    void chunkingsOfOneKindAreExactAndAcrossKindsWithinRounding(TinyModel.Spec spec) {
        TinyModel model = TinyModel.of(spec, 13);
        // 70 tokens: two attention key blocks, chunks crossing the block boundary.
        int[] tokens = model.randomTokens(70, 7);
        int vocab = spec.vocab();
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] whole = t.forward(t.newCache(), tokens, 0, LogitsMode.ALL);

            KvCache stepCache = t.newCache();
            float[] steps = new float[tokens.length * vocab];
            for (int p = 0; p < tokens.length; p++) {
                float[] l = t.forward(stepCache, new int[] {tokens[p]}, p, LogitsMode.LAST);
                System.arraycopy(l, 0, steps, p * vocab, vocab);
            }

            assertThat(chunked(t, tokens, 7, 20, 13, 25, 5)).containsExactly(steps);
            assertThat(chunked(t, tokens, 33, 37)).containsExactly(whole);
            for (int p = 0; p < tokens.length; p++) {
                assertSameWithinRounding(Arrays.copyOfRange(steps, p * vocab, (p + 1) * vocab),
                        Arrays.copyOfRange(whole, p * vocab, (p + 1) * vocab), "position " + p);
            }
        }
        try (Transformer small = Transformer.load(model.file, backend, 35);
                Transformer t = Transformer.load(model.file, backend)) {
            float[] chunked = small.forward(small.newCache(), tokens, 0, LogitsMode.ALL);
            assertThat(chunked).containsExactly(t.forward(t.newCache(), tokens, 0, LogitsMode.ALL));
            float[] last = small.prefill(small.newCache(), tokens);
            assertThat(last).containsExactly(t.prefill(t.newCache(), tokens));
            // The last logits alone go through the LM head as one row, ALL's as one of many.
            assertSameWithinRounding(last, Arrays.copyOfRange(chunked, (tokens.length - 1) * vocab, chunked.length),
                    "last position");
        }
    }

    /**
     * Logits within 5e-4 of the largest |logit| of each other (as in {@link WholeModelParityTest}), and
     * the same greedy token.
     */
    private static void assertSameWithinRounding(float[] actual, float[] expected, String where) {
        double largest = 0;
        for (float e : expected) {
            largest = Math.max(largest, Math.abs(e));
        }
        assertMaxAbsDifference(actual, expected, 5e-4 * largest);
        assertThat(Sampler.argmax(actual)).as(where).isEqualTo(Sampler.argmax(expected));
    }

    /** All logits of {@code tokens} run through {@code t} in chunks of the given sizes. */
    private static float[] chunked(Transformer t, int[] tokens, int... sizes) {
        KvCache cache = t.newCache();
        int vocab = t.config().vocabSize();
        float[] all = new float[tokens.length * vocab];
        int from = 0;
        for (int size : sizes) {
            float[] l = t.forward(cache, Arrays.copyOfRange(tokens, from, from + size), from, LogitsMode.ALL);
            System.arraycopy(l, 0, all, from * vocab, l.length);
            from += size;
        }
        assertThat(from).isEqualTo(tokens.length);
        return all;
    }

    /**
     * On repacked weights (Q8_0, Q4_0 and the K-quants; the tiny model's rows are too short for
     * K-quants) the vector matmuls sum every output in one order whatever the call's size (repacked
     * row groups below a panel, token panels from one), so there is one kind: token steps, small
     * chunks, big chunks and the whole prompt give the same logits to the last bit.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0"})
    void onRepackedWeightsEveryChunkingIsExact(GgmlType type) {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 22, type);
        int[] tokens = model.randomTokens(70, 9);
        int vocab = TinyModel.QWEN3.vocab();
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] whole = t.forward(t.newCache(), tokens, 0, LogitsMode.ALL);
            KvCache stepCache = t.newCache();
            for (int p = 0; p < tokens.length; p++) {
                float[] step = t.forward(stepCache, new int[] {tokens[p]}, p, LogitsMode.LAST);
                assertThat(step).as("position %d", p)
                        .containsExactly(Arrays.copyOfRange(whole, p * vocab, (p + 1) * vocab));
            }
            assertThat(chunked(t, tokens, 7, 20, 13, 25, 5)).containsExactly(whole);
            assertThat(chunked(t, tokens, 33, 37)).containsExactly(whole);
            assertThat(t.prefill(t.newCache(), tokens))
                    .containsExactly(Arrays.copyOfRange(whole, (tokens.length - 1) * vocab, whole.length));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "F16"})
    void quantizedModelsAgreeWithTheReferenceAndAreExactAcrossChunkings(GgmlType type) {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 20, type);
        int[] tokens = model.randomTokens(30, 14);
        int vocab = TinyModel.QWEN3.vocab();
        double[][] expected = new NaiveTransformer(model).logits(tokens);
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] whole = t.forward(t.newCache(ElementType.F32), tokens, 0, LogitsMode.ALL);
            KvCache cache = t.newCache(ElementType.F32);
            t.forward(cache, Arrays.copyOf(tokens, 20), 0, LogitsMode.NONE);
            for (int p = 20; p < 30; p++) {
                float[] step = t.forward(cache, new int[] {tokens[p]}, p, LogitsMode.LAST);
                assertThat(step).containsExactly(Arrays.copyOfRange(whole, p * vocab, (p + 1) * vocab));
                assertClose(step, expected[p], 1e-4, type + " position " + p);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("architectures")
    void aTokenNeverSeesLaterTokens(TinyModel.Spec spec) {
        TinyModel model = TinyModel.of(spec, 14);
        int[] tokens = model.randomTokens(30, 8);
        int[] changed = tokens.clone();
        for (int i = 20; i < 30; i++) {
            changed[i] = (changed[i] + 1) % spec.vocab();
        }
        int vocab = spec.vocab();
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] a = t.forward(t.newCache(), tokens, 0, LogitsMode.ALL);
            float[] b = t.forward(t.newCache(), changed, 0, LogitsMode.ALL);
            assertThat(Arrays.copyOf(b, 20 * vocab)).containsExactly(Arrays.copyOf(a, 20 * vocab));
            assertThat(Arrays.copyOfRange(b, 20 * vocab, 21 * vocab))
                    .isNotEqualTo(Arrays.copyOfRange(a, 20 * vocab, 21 * vocab));
        }
    }

    @Test
    void logitsModesReturnLastAllOrNothing() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 15);
        int[] tokens = model.randomTokens(12, 9);
        int vocab = TinyModel.QWEN3.vocab();
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] all = t.forward(t.newCache(), tokens, 0, LogitsMode.ALL);
            float[] last = t.forward(t.newCache(), tokens, 0, LogitsMode.LAST);
            KvCache cache = t.newCache();
            float[] none = t.forward(cache, tokens, 0, LogitsMode.NONE);
            assertThat(all).hasSize(12 * vocab);
            assertThat(last).containsExactly(Arrays.copyOfRange(all, 11 * vocab, 12 * vocab));
            assertThat(none).isEmpty();
            assertThat(cache.length()).isEqualTo(12);
        }
    }

    @Test
    void explicitPositionsDriveRope() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 16);
        int[] tokens = model.randomTokens(20, 10);
        int[] contiguous = new int[20];
        Arrays.setAll(contiguous, i -> i);
        int[] shifted = new int[20];
        Arrays.setAll(shifted, i -> i + 7);
        try (Transformer t = Transformer.load(model.file, backend)) {
            float[] byStart = t.forward(t.newCache(ElementType.F32), tokens, 0, LogitsMode.ALL);
            assertThat(t.forward(t.newCache(ElementType.F32), tokens, contiguous, LogitsMode.ALL)).containsExactly(byStart);
            // RoPE encodes relative positions: a common shift changes logits by rounding only.
            float[] moved = t.forward(t.newCache(ElementType.F32), tokens, shifted, LogitsMode.ALL);
            assertMaxAbsDifference(moved, byStart, 1e-4);
            assertThat(moved).isNotEqualTo(byStart);
        }
    }

    @Test
    void linearRopeScalingDividesPositions() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 21);
        Map<String, GgufValue> md = new LinkedHashMap<>(model.file.metadata().asMap());
        md.put("qwen3.rope.scaling.type", GgufValue.ofString("linear"));
        md.put("qwen3.rope.scaling.factor", GgufValue.ofFloat32(2f));
        List<TensorData> tensors = new ArrayList<>();
        model.file.tensorInfos().forEach(info -> tensors.add(model.file.tensor(info.name())));
        InMemoryModelFile scaled = new InMemoryModelFile("scaled", md, tensors);
        int[] tokens = model.randomTokens(20, 15);
        int[] doubled = new int[20];
        Arrays.setAll(doubled, i -> 2 * i);
        try (Transformer plain = Transformer.load(model.file, backend);
                Transformer half = Transformer.load(scaled, backend)) {
            assertThat(half.config().ropeScale()).isEqualTo(2f);
            assertThat(half.forward(half.newCache(), tokens, doubled, LogitsMode.ALL))
                    .containsExactly(plain.forward(plain.newCache(), tokens, 0, LogitsMode.ALL));
        }
    }

    @Test
    void aPromptLongerThanTheContextIsAClearError() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3.withContext(64), 17);
        try (Transformer t = Transformer.load(model.file, backend)) {
            KvCache cache = t.newCache();
            assertThatThrownBy(() -> t.prefill(cache, model.randomTokens(65, 1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("prompt of 65 tokens exceeds the context window of 64 tokens of model tiny-qwen3");
            assertThat(cache.length()).isZero();

            t.prefill(cache, model.randomTokens(60, 2));
            assertThatThrownBy(() -> t.prefill(cache, model.randomTokens(5, 3)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("sequence of 65 tokens (60 cached + 5 new) exceeds the context window of 64 tokens"
                            + " of model tiny-qwen3");
            assertThat(t.prefill(cache, model.randomTokens(4, 4))).hasSize(TinyModel.QWEN3.vocab());
            assertThat(cache.length()).isEqualTo(64);
        }
    }

    @Test
    void badCallsAreRejectedWithTheReason() {
        TinyModel model = TinyModel.of(TinyModel.QWEN3, 18);
        try (Transformer t = Transformer.load(model.file, backend)) {
            KvCache cache = t.newCache();
            assertThatThrownBy(() -> t.forward(cache, new int[] {1}, 3, LogitsMode.LAST))
                    .hasMessage("start position 3 must equal the cache length 0");
            assertThatThrownBy(() -> t.forward(cache, new int[] {1, 53}, 0, LogitsMode.LAST))
                    .hasMessage("token id 53 at index 1 is outside the vocabulary of 53 tokens of model tiny-qwen3");
            assertThatThrownBy(() -> t.forward(cache, new int[0], 0, LogitsMode.LAST))
                    .hasMessage("no tokens to run through model tiny-qwen3");
            assertThatThrownBy(() -> t.forward(cache, new int[] {1, 2}, new int[] {0, -1}, LogitsMode.LAST))
                    .hasMessage("position -1 at index 1 is negative");
            assertThat(cache.length()).isZero();
        }
    }

    @Test
    void aForkedPrefixContinuesLikeTheOriginal() {
        TinyModel model = TinyModel.of(TinyModel.LLAMA, 19);
        int[] prefix = model.randomTokens(20, 11);
        int[] rest = model.randomTokens(9, 12);
        try (Transformer t = Transformer.load(model.file, backend)) {
            KvCache shared = t.newCache();
            t.forward(shared, prefix, 0, LogitsMode.NONE);
            KvCache fork = shared.fork();
            float[] viaFork = t.prefill(fork, rest);
            float[] viaOriginal = t.prefill(shared, rest);
            assertThat(viaFork).containsExactly(viaOriginal);

            // Truncating back to the prefix and continuing differently equals a fresh run.
            int[] other = model.randomTokens(9, 13);
            shared.truncate(prefix.length);
            float[] reused = t.prefill(shared, other);
            int[] full = Arrays.copyOf(prefix, prefix.length + other.length);
            System.arraycopy(other, 0, full, prefix.length, other.length);
            KvCache fresh = t.newCache();
            t.forward(fresh, prefix, 0, LogitsMode.NONE);
            assertThat(reused).containsExactly(t.prefill(fresh, other));
            assertThat(fork.length()).isEqualTo(29);
        }
    }

    private static void assertClose(float[] actual, double[] expected, double tolerance, String where) {
        assertThat(actual).as(where).hasSize(expected.length);
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        assertThat(worst).as("max |logit - reference| at " + where).isLessThanOrEqualTo(tolerance);
    }

    private static void assertMaxAbsDifference(float[] actual, float[] expected, double tolerance) {
        assertThat(actual).hasSameSizeAs(expected);
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        assertThat(worst).as("max abs difference").isLessThanOrEqualTo(tolerance);
    }
}
