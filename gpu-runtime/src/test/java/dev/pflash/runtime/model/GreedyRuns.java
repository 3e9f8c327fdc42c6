package dev.pflash.runtime.model;

import dev.pflash.runtime.sampling.Sampler;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Random prompts and greedy continuations for the whole-model parity tests. */
final class GreedyRuns {
    private GreedyRuns() {
    }

    static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] t = new int[n];
        Arrays.setAll(t, i -> rnd.nextInt(vocab));
        return t;
    }

    /** {@code count} greedy tokens after {@code prompt}, prefilled into the empty {@code cache}. */
    static int[] greedy(Transformer t, KvCache cache, int[] prompt, int count) {
        float[] logits = t.prefill(cache, prompt);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = Sampler.argmax(logits);
            logits = t.forward(cache, new int[] {out[i]}, prompt.length + i, LogitsMode.LAST);
        }
        return out;
    }
}
