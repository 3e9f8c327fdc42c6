package dev.pflash.runtime.pflash;

import java.util.Arrays;
import java.util.BitSet;

/**
 * A prompt in the drafter's token ids, with the way back to the target's body tokens: the identity
 * when both models share a vocabulary, else byte offsets of each body token in the body's UTF-8
 * text on both sides (see {@link VocabularyBridge}).
 */
final class DraftPrompt {
    private final int[] prefix;
    private final int[] body;
    private final int[] suffix;
    private final int targetBodyLength;
    /** Byte offset of each target body token, and the end (length target body + 1); null for shared ids. */
    private final int[] targetOffsets;
    /** Byte offset of each drafter body token, and the end; null for shared ids. */
    private final int[] drafterOffsets;

    private DraftPrompt(int[] prefix, int[] body, int[] suffix, int targetBodyLength, int[] targetOffsets,
            int[] drafterOffsets) {
        this.prefix = prefix;
        this.body = body;
        this.suffix = suffix;
        this.targetBodyLength = targetBodyLength;
        this.targetOffsets = targetOffsets;
        this.drafterOffsets = drafterOffsets;
    }

    /** The target's own ids: drafter and target share the vocabulary. */
    static DraftPrompt sharedIds(int[] prefix, int[] body, int[] suffix) {
        return new DraftPrompt(prefix, body, suffix, body.length, null, null);
    }

    /**
     * Drafter ids with the byte offsets that align drafter and target body tokens (each offset array
     * one longer than its body).
     */
    static DraftPrompt aligned(int[] prefix, int[] body, int[] suffix, int[] targetOffsets, int[] drafterOffsets) {
        return new DraftPrompt(prefix, body, suffix, targetOffsets.length - 1, targetOffsets, drafterOffsets);
    }

    int prefixLength() {
        return prefix.length;
    }

    int bodyLength() {
        return body.length;
    }

    int targetBodyLength() {
        return targetBodyLength;
    }

    /** prefix, body and suffix in drafter ids. */
    int[] allTokens() {
        int[] all = Arrays.copyOf(prefix, prefix.length + body.length + suffix.length);
        System.arraycopy(body, 0, all, prefix.length, body.length);
        System.arraycopy(suffix, 0, all, prefix.length + body.length, suffix.length);
        return all;
    }

    /**
     * Target body indices covered by the kept drafter body tokens {@code kept} (ascending): a target
     * token is kept when any of its bytes is; one with no bytes of its own (a control token) goes
     * with the byte before it.
     */
    int[] toTargetBody(int[] kept) {
        if (targetOffsets == null) {
            return kept.clone();
        }
        BitSet keptBytes = new BitSet(drafterOffsets[drafterOffsets.length - 1]);
        for (int i : kept) {
            keptBytes.set(drafterOffsets[i], drafterOffsets[i + 1]);
        }
        int[] out = new int[targetBodyLength];
        int n = 0;
        for (int i = 0; i < targetBodyLength; i++) {
            int from = targetOffsets[i];
            int to = targetOffsets[i + 1];
            int next = keptBytes.nextSetBit(from);
            boolean hit = to > from ? next >= 0 && next < to : from > 0 && keptBytes.get(from - 1);
            if (hit) {
                out[n++] = i;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Per target body token, the score of the drafter body token that holds its first byte. */
    float[] toTargetScores(float[] drafterBodyScores) {
        if (targetOffsets == null) {
            return drafterBodyScores.clone();
        }
        float[] out = new float[targetBodyLength];
        int d = 0;
        for (int i = 0; i < targetBodyLength; i++) {
            while (d + 1 < body.length && drafterOffsets[d + 1] <= targetOffsets[i]) {
                d++;
            }
            out[i] = body.length == 0 ? 0f : drafterBodyScores[d];
        }
        return out;
    }
}
