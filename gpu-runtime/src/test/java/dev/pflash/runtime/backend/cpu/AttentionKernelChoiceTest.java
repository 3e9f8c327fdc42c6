package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.sampling.Sampler;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The attention kernel follows {@link VectorSupport}, and a whole model on the scalar kernel (the
 * fallback without the Vector API module) gives the vector kernel's logits within {@value
 * #TOLERANCE} of the largest logit's magnitude and the same greedy tokens, on f16 and f32 caches.
 */
class AttentionKernelChoiceTest {
    private static final double TOLERANCE = 1e-4;

    @Test
    void scalarKernelsRunTheDemoModelLikeTheVectorKernels() {
        String saved = System.getProperty(VectorSupport.PROPERTY);
        CpuBackend scalar;
        CpuBackend vector;
        try {
            System.setProperty(VectorSupport.PROPERTY, "scalar");
            scalar = new CpuBackend(2);
            System.setProperty(VectorSupport.PROPERTY, "vector");
            vector = new CpuBackend(2);
        } finally {
            if (saved == null) {
                System.clearProperty(VectorSupport.PROPERTY);
            } else {
                System.setProperty(VectorSupport.PROPERTY, saved);
            }
        }
        assertThat(scalar.attentionKernel()).isInstanceOf(ScalarAttentionKernel.class);
        assertThat(vector.attentionKernel()).isInstanceOf(VectorAttentionKernel.class);
        try (scalar; vector; ModelFile file = ModelSources.open("../sample-data/models/demo-target.gguf");
                Transformer s = Transformer.load(file, scalar);
                Transformer v = Transformer.load(file, vector)) {
            int[] prompt = new int[80];
            SplittableRandom rnd = new SplittableRandom(3);
            Arrays.setAll(prompt, i -> rnd.nextInt(s.config().vocabSize()));
            for (ElementType type : ElementType.values()) {
                float[] a = s.forward(s.newCache(type), prompt, 0, LogitsMode.ALL);
                float[] b = v.forward(v.newCache(type), prompt, 0, LogitsMode.ALL);
                double scale = 0;
                double diff = 0;
                for (int i = 0; i < a.length; i++) {
                    scale = Math.max(scale, Math.abs(b[i]));
                    diff = Math.max(diff, Math.abs(a[i] - b[i]));
                }
                assertThat(diff / scale).as(type + ": max |scalar - vector| / max |logit|")
                        .isLessThanOrEqualTo(TOLERANCE);
                assertThat(greedy(s, type, prompt)).as(type.toString()).containsExactly(greedy(v, type, prompt));
            }
        }
    }

    private static int[] greedy(Transformer t, ElementType type, int[] prompt) {
        KvCache cache = t.newCache(type);
        float[] logits = t.prefill(cache, prompt);
        int[] out = new int[16];
        for (int i = 0; i < out.length; i++) {
            out[i] = Sampler.argmax(logits);
            logits = t.forward(cache, new int[] {out[i]}, prompt.length + i, LogitsMode.LAST);
        }
        return out;
    }
}
