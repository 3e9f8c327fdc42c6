package dev.pflash.runtime.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which body tokens the target prefills, in order: all of them, or the chunks PFlash kept. Also
 * carries the kept spans with their scores and what choosing them cost.
 *
 * @param bodyLength the body's token count before selection
 * @param kept       indices into the body of the kept tokens, ascending
 * @param spans      the kept runs with their scores (empty when nothing was compressed)
 */
public record BodySelection(int bodyLength, int[] kept, List<KeySpan> spans, double draftMs, double selectMs) {
    public BodySelection {
        kept = kept.clone();
        spans = List.copyOf(spans);
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] < 0 || kept[i] >= bodyLength || (i > 0 && kept[i] <= kept[i - 1])) {
                throw new IllegalArgumentException("kept body indices must be ascending and inside the body of "
                        + bodyLength + " tokens: " + Arrays.toString(Arrays.copyOf(kept, Math.min(kept.length, 20))));
            }
        }
    }

    /** Every body token: no compression. */
    public static BodySelection all(int bodyLength) {
        int[] all = new int[bodyLength];
        Arrays.setAll(all, i -> i);
        return new BodySelection(bodyLength, all, List.of(), 0, 0);
    }

    @Override
    public int[] kept() {
        return kept.clone();
    }

    /** The kept tokens of {@code body}, in order. */
    int[] keptTokens(int[] body) {
        int[] out = new int[kept.length];
        for (int i = 0; i < kept.length; i++) {
            out[i] = body[kept[i]];
        }
        return out;
    }

    /**
     * RoPE positions of prefix, kept body and suffix: contiguous 0..n-1, or each token's position
     * in the uncompressed prompt.
     */
    int[] positions(int prefixLength, int suffixLength, boolean original) {
        int n = prefixLength + kept.length + suffixLength;
        int[] pos = new int[n];
        if (!original) {
            Arrays.setAll(pos, i -> i);
            return pos;
        }
        for (int i = 0; i < prefixLength; i++) {
            pos[i] = i;
        }
        for (int i = 0; i < kept.length; i++) {
            pos[prefixLength + i] = prefixLength + kept[i];
        }
        for (int i = 0; i < suffixLength; i++) {
            pos[prefixLength + kept.length + i] = prefixLength + bodyLength + i;
        }
        return pos;
    }

    /** Runs of consecutive kept indices as spans, each with the given per-token scores averaged. */
    public static List<KeySpan> spansOf(int[] kept, float[] tokenScores) {
        List<KeySpan> spans = new ArrayList<>();
        int i = 0;
        while (i < kept.length) {
            int j = i;
            double sum = tokenScores[kept[i]];
            while (j + 1 < kept.length && kept[j + 1] == kept[j] + 1) {
                j++;
                sum += tokenScores[kept[j]];
            }
            spans.add(new KeySpan(kept[i], kept[j] + 1, (float) (sum / (j - i + 1))));
            i = j + 1;
        }
        return spans;
    }
}
