package dev.pflash.runtime.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.models.ModelSources;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A prompt prefilled in chunks of fewer than {@link CpuBackend#PANEL_TOKENS} tokens (the decode
 * kind of matmul) against the same prompt in one chunk (the prefill kind), whole model: logits
 * within {@value #TOLERANCE} of the largest logit's magnitude, and greedy decoding after either
 * picks the same tokens, on the test models and the demo models.
 */
class ChunkKindParityTest {
    /** Largest |logit(small chunks) - logit(one chunk)|, relative to the largest |logit|. */
    private static final double TOLERANCE = 5e-4;
    private static final int PROMPT = 70;
    private static final int SMALL_CHUNK = 16;
    private static final int GENERATED = 24;
    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stopBackend() {
        backend.close();
    }

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("tiny-qwen3", TinyModel.of(TinyModel.QWEN3, 41).file),
                Arguments.of("tiny-qwen3 q8_0", TinyModel.of(TinyModel.QWEN3, 42, GgmlType.Q8_0).file),
                Arguments.of("tiny-llama", TinyModel.of(TinyModel.LLAMA, 43).file),
                Arguments.of("demo-target", ModelSources.open("../sample-data/models/demo-target.gguf")),
                Arguments.of("demo-drafter", ModelSources.open("../sample-data/models/demo-drafter.gguf")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void smallChunksGiveCloseLogitsAndTheSameGreedyTokens(String name, ModelFile file) {
        try (file; Transformer small = Transformer.load(file, backend, SMALL_CHUNK);
                Transformer whole = Transformer.load(file, backend)) {
            int[] prompt = GreedyRuns.randomTokens(PROMPT, whole.config().vocabSize(), 43);
            float[] a = small.forward(small.newCache(), prompt, 0, LogitsMode.ALL);
            float[] b = whole.forward(whole.newCache(), prompt, 0, LogitsMode.ALL);
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < b.length; i++) {
                scale = Math.max(scale, Math.abs(b[i]));
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertThat(diff / scale).as("max |small chunks - one chunk| / max |logit|")
                    .isLessThanOrEqualTo(TOLERANCE);
            if (backend.vectorKernels()) {
                assertThat(diff).as("the two kinds add in different orders: logits move a little").isPositive();
            }
            assertThat(GreedyRuns.greedy(small, small.newCache(), prompt, GENERATED))
                    .containsExactly(GreedyRuns.greedy(whole, whole.newCache(), prompt, GENERATED));
        }
    }
}
