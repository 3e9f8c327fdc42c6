package dev.pflash.runtime.pflash;

import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lexical anchors (PFLASH.md step 4): a 4-gram of the prompt's last 96 tokens that also occurs in
 * the body, between 1 and 8 times, marks the body chunks of each occurrence and the 2 chunks on
 * either side. They catch what the question quotes verbatim (a name, a key) even when attention
 * scores miss it; rarer is the point, so a 4-gram found more than 8 times anchors nothing. The
 * reference compresses the whole prompt, so its last 96 tokens are the question; here the question
 * is the suffix, and only the suffix's part of those 96 tokens counts, so that a short question
 * does not let the end of the document anchor its own repeats.
 */
final class LexicalAnchors {
    static final int GRAM = 4;
    static final int WINDOW = 96;
    static final int MAX_OCCURRENCES = 8;
    static final int RADIUS_CHUNKS = 2;

    private LexicalAnchors() {
    }

    /**
     * Anchored chunks of the body {@code prompt[bodyStart .. bodyStart + bodyLength)}, as body chunk
     * indices of {@code chunkTokens} tokens.
     */
    static BitSet chunks(int[] prompt, int bodyStart, int bodyLength, int chunkTokens) {
        int bodyEnd = bodyStart + bodyLength;
        int windowStart = Math.max(bodyEnd, prompt.length - WINDOW);
        Set<List<Integer>> wanted = new HashSet<>();
        for (int p = windowStart; p + GRAM <= prompt.length; p++) {
            wanted.add(gram(prompt, p));
        }
        Map<List<Integer>, BitSet> occurrences = new HashMap<>();
        for (int p = bodyStart; p + GRAM <= bodyEnd; p++) {
            List<Integer> g = gram(prompt, p);
            if (wanted.contains(g)) {
                occurrences.computeIfAbsent(g, x -> new BitSet()).set(p - bodyStart);
            }
        }
        int chunks = ChunkSelector.chunkCount(bodyLength, chunkTokens);
        BitSet anchored = new BitSet(chunks);
        for (BitSet at : occurrences.values()) {
            if (at.cardinality() > MAX_OCCURRENCES) {
                continue;
            }
            at.stream().forEach(p -> {
                int first = Math.max(0, p / chunkTokens - RADIUS_CHUNKS);
                int last = Math.min(chunks - 1, (p + GRAM - 1) / chunkTokens + RADIUS_CHUNKS);
                anchored.set(first, last + 1);
            });
        }
        return anchored;
    }

    private static List<Integer> gram(int[] tokens, int at) {
        return List.of(tokens[at], tokens[at + 1], tokens[at + 2], tokens[at + 3]);
    }
}
