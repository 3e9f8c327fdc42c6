package dev.pflash.runtime.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.ModelSources;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model logits on CUDA against the CPU backend: a prefill (tensor-core matrix multiplies and
 * flash attention, f16 inputs) then decode steps (f32 matrix-vector products and attention over
 * the cache the prefill filled). Tolerance: a relative L2 error of {@value #RELATIVE_L2} over the
 * vocabulary, and the GPU's most likely token among the CPU's five most likely. Where it comes
 * from: each f16 input carries a relative error of at most 2^-11, which a matrix multiply sums
 * into about 1e-3 of its output and the residual stream carries through every layer. Rounding the
 * matrix-multiply and attention inputs of the CPU backend to f16 the way these kernels do gave
 * relative L2 errors of 1.1e-3 (demo model, 4 layers) and 2.5e-3 prefill / 3.3e-3 decode
 * (synthetic Qwen3-0.6B Q4_K_M, 28 layers); the bound leaves room for the rest (f16
 * probabilities in attention, fast exponentials, summation order). The hybrid
 * {@code qwen35-small} runs its DeltaNet layers in f32 (the delta rule token by token on the GPU,
 * in chunks on the CPU) and is held to the same bound; that bound is not yet measured for it on a GPU.
 */
class CudaModelParityTest extends GpuParityTestBase {
    static final double RELATIVE_L2 = 1e-2;
    private static final int DECODE_STEPS = 3;

    @ParameterizedTest
    @ValueSource(strings = {"../sample-data/models/demo-target.gguf", "synthetic:qwen3-0.6b?type=Q4_K_M",
        "synthetic:qwen35-small?ctx=512"})
    void prefillAndDecodeLogitsMatchTheCpu(String model) {
        try (ModelFile file = ModelSources.open(model);
                Transformer onCpu = Transformer.load(file, cpu);
                Transformer onGpu = Transformer.load(file, gpu);
                KvCache cpuCache = onCpu.newCache();
                KvCache gpuCache = onGpu.newCache()) {
            int vocab = onCpu.config().vocabSize();
            int[] prompt = new SplittableRandom(71).ints(150, 0, vocab).toArray();
            float[] expected = onCpu.prefill(cpuCache, prompt);
            float[] got = onGpu.prefill(gpuCache, prompt);
            assertClose("prefill", expected, got);
            for (int step = 0; step < DECODE_STEPS; step++) {
                int[] next = {argmax(expected)};
                expected = onCpu.forward(cpuCache, next, cpuCache.length(), LogitsMode.LAST);
                got = onGpu.forward(gpuCache, next, gpuCache.length(), LogitsMode.LAST);
                assertClose("decode step " + step, expected, got);
            }
        }
    }

    private static void assertClose(String what, float[] expected, float[] got) {
        assertThat(got).hasSameSizeAs(expected);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += Math.pow((double) got[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        assertThat(Math.sqrt(diff / norm)).as("%s: relative L2 error of the logits", what).isLessThanOrEqualTo(RELATIVE_L2);
        int best = argmax(got);
        float[] sorted = expected.clone();
        Arrays.sort(sorted);
        assertThat(expected[best]).as("%s: CPU logit of the GPU's top token %d", what, best)
                .isGreaterThanOrEqualTo(sorted[sorted.length - 5]);
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
