package dev.pflash.runtime.tokenizer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns a byte-level BPE vocabulary from sample text, for the project's demo models (real models
 * bring their own vocabulary). The result has the layout of a GPT-2 style vocabulary:
 * <ol>
 *   <li>ids 0..255: the 256 byte characters in code point order (as in GPT-2 and Qwen: "!" is 0,
 *       "Ċ" is 198, "Ġ" is 220), typed NORMAL;</li>
 *   <li>then one token per learned merge: the corpus is cut at special-token text and split by
 *       the pre-tokenizer, and the most frequent adjacent pair over all pieces is merged, ties
 *       broken by the lexicographically smallest pair (left text, then right text);</li>
 *   <li>then the special tokens in the order given, typed CONTROL except the Qwen tags that
 *       Qwen3 types USER_DEFINED ({@code <think>}, {@code </think>}, tool call/response tags).</li>
 * </ol>
 * Special ids follow Qwen3: {@code <|endoftext|>} is BOS and padding, {@code <|im_end|>} is EOS,
 * when they are among the special tokens. Pair counts are updated incrementally, so training
 * costs about the size of the pieces each merge touches, not a recount per merge. Deterministic.
 */
public final class BpeTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(BpeTrainer.class);

    private static final Set<String> USER_DEFINED_SPECIALS = Set.of(
            "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>");
    private static final String BOS_AND_PAD = "<|endoftext|>";
    private static final String EOS = "<|im_end|>";
    private static final int BYTE_TOKENS = 256;

    /** Pair statistics: total count over the corpus and the pieces that may contain the pair. */
    private static final class PairStats {
        long count;
        final IntList pieces = new IntList(4);
    }

    /** A heap entry; stale when {@code count} is no longer the pair's count. */
    private record Candidate(long count, int left, int right) {
    }

    private final List<String> symbolTexts = new ArrayList<>();
    private final Map<String, Integer> symbolIds = new HashMap<>();
    private final List<String> merges = new ArrayList<>();
    private final Map<Long, PairStats> pairs = new HashMap<>();
    private final PriorityQueue<Candidate> candidates;
    private int[][] pieces;
    private long[] pieceCounts;

    private BpeTrainer() {
        candidates = new PriorityQueue<>(Comparator.comparingLong((Candidate c) -> -c.count)
                .thenComparing((Candidate c) -> symbolTexts.get(c.left))
                .thenComparing((Candidate c) -> symbolTexts.get(c.right)));
    }

    /**
     * @param corpus        sample text; special-token text in it is not learned from
     * @param vocabSize     exact size of the result: 256 byte tokens + learned tokens + special tokens
     * @param pre           the pre-tokenizer the vocabulary will be used with
     * @param specialTokens special token texts, appended in this order
     * @throws IllegalArgumentException when the sizes do not fit or the corpus has too few pairs
     */
    public static Vocabulary train(String corpus, int vocabSize, PreTokenizer pre, List<String> specialTokens) {
        if (new HashSet<>(specialTokens).size() != specialTokens.size() || specialTokens.contains("")) {
            throw new IllegalArgumentException("special tokens must be distinct and non-empty: " + specialTokens);
        }
        int learned = vocabSize - BYTE_TOKENS - specialTokens.size();
        if (learned < 0) {
            throw new IllegalArgumentException("vocabulary size " + vocabSize + " is smaller than the " + BYTE_TOKENS
                    + " byte tokens plus " + specialTokens.size() + " special tokens");
        }
        long started = System.nanoTime();
        BpeTrainer trainer = new BpeTrainer();
        trainer.countPieces(corpus, pre, specialTokens);
        trainer.learn(learned);
        Vocabulary vocabulary = trainer.vocabulary(specialTokens, pre);
        LOG.debug("Trained {} in {} ms from {} chars", vocabulary, (System.nanoTime() - started) / 1_000_000,
                corpus.length());
        return vocabulary;
    }

    private void countPieces(String corpus, PreTokenizer pre, List<String> specialTokens) {
        for (char c : ByteLevelCodec.byteCharsInVocabularyOrder()) {
            addSymbol(String.valueOf(c));
        }
        Map<String, Long> counts = new TreeMap<>();
        Matcher piece = pre.pattern().matcher(corpus);
        int start = 0;
        if (!specialTokens.isEmpty()) {
            List<String> longestFirst = new ArrayList<>(specialTokens);
            longestFirst.sort(Comparator.comparingInt(String::length).reversed());
            Matcher special = Pattern.compile(String.join("|", longestFirst.stream().map(Pattern::quote).toList()))
                    .matcher(corpus);
            while (special.find()) {
                countRegion(piece, start, special.start(), counts);
                start = special.end();
            }
        }
        countRegion(piece, start, corpus.length(), counts);
        pieces = new int[counts.size()][];
        pieceCounts = new long[counts.size()];
        int w = 0;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            String byteLevel = e.getKey();
            int[] symbols = new int[byteLevel.length()];
            for (int i = 0; i < symbols.length; i++) {
                symbols[i] = symbolIds.get(String.valueOf(byteLevel.charAt(i)));
            }
            pieces[w] = symbols;
            pieceCounts[w] = e.getValue();
            for (int i = 0; i + 1 < symbols.length; i++) {
                PairStats stats = pairs.computeIfAbsent(key(symbols[i], symbols[i + 1]), k -> new PairStats());
                stats.count += pieceCounts[w];
                stats.pieces.add(w);
            }
            w++;
        }
        for (Map.Entry<Long, PairStats> e : pairs.entrySet()) {
            candidates.add(new Candidate(e.getValue().count, left(e.getKey()), right(e.getKey())));
        }
    }

    private static void countRegion(Matcher piece, int from, int to, Map<String, Long> counts) {
        piece.region(from, to);
        while (piece.find()) {
            counts.merge(ByteLevelCodec.encode(piece.group()), 1L, Long::sum);
        }
    }

    private void learn(int tokensToLearn) {
        int target = BYTE_TOKENS + tokensToLearn;
        int[] lastVisit = new int[pieces.length];
        while (symbolTexts.size() < target) {
            Candidate best = candidates.poll();
            if (best == null) {
                throw new IllegalArgumentException("the corpus is too small: it yields only "
                        + (symbolTexts.size() - BYTE_TOKENS) + " merged tokens, " + tokensToLearn + " are needed");
            }
            PairStats stats = pairs.get(key(best.left, best.right));
            if (stats == null || stats.count != best.count) {
                continue;
            }
            merges.add(symbolTexts.get(best.left) + " " + symbolTexts.get(best.right));
            int merged = addSymbol(symbolTexts.get(best.left) + symbolTexts.get(best.right));
            applyMerge(best.left, best.right, merged, stats, lastVisit, merges.size());
        }
    }

    /**
     * Rewrites every piece holding the pair and adjusts pair counts by the difference between
     * each piece's old and new pairs; the differences are summed first so that pairs a rewrite
     * does not really change get no new heap entry.
     */
    private void applyMerge(int left, int right, int merged, PairStats stats, int[] lastVisit, int visit) {
        Map<Long, Long> delta = new HashMap<>();
        for (int k = 0; k < stats.pieces.size(); k++) {
            int w = stats.pieces.get(k);
            if (lastVisit[w] == visit) {
                continue;
            }
            lastVisit[w] = visit;
            int[] old = pieces[w];
            int[] rewritten = rewrite(old, left, right, merged);
            if (rewritten == old) {
                continue;
            }
            long count = pieceCounts[w];
            for (int i = 0; i + 1 < old.length; i++) {
                delta.merge(key(old[i], old[i + 1]), -count, Long::sum);
            }
            for (int i = 0; i + 1 < rewritten.length; i++) {
                long pair = key(rewritten[i], rewritten[i + 1]);
                delta.merge(pair, count, Long::sum);
                if (rewritten[i] == merged || rewritten[i + 1] == merged) {
                    pairs.computeIfAbsent(pair, p -> new PairStats()).pieces.add(w);
                }
            }
            pieces[w] = rewritten;
        }
        for (Map.Entry<Long, Long> d : delta.entrySet()) {
            if (d.getValue() == 0) {
                continue;
            }
            PairStats s = pairs.computeIfAbsent(d.getKey(), p -> new PairStats());
            s.count += d.getValue();
            if (s.count > 0) {
                candidates.add(new Candidate(s.count, left(d.getKey()), right(d.getKey())));
            } else {
                pairs.remove(d.getKey());
            }
        }
    }

    /** The piece with each non-overlapping (left, right), scanned left to right, replaced; the same array if none. */
    private static int[] rewrite(int[] piece, int left, int right, int merged) {
        IntList out = null;
        for (int i = 0; i < piece.length; i++) {
            if (i + 1 < piece.length && piece[i] == left && piece[i + 1] == right) {
                if (out == null) {
                    out = new IntList(piece.length);
                    for (int j = 0; j < i; j++) {
                        out.add(piece[j]);
                    }
                }
                out.add(merged);
                i++;
            } else if (out != null) {
                out.add(piece[i]);
            }
        }
        return out == null ? piece : out.toArray();
    }

    private int addSymbol(String text) {
        Integer existing = symbolIds.get(text);
        if (existing != null) {
            return existing;
        }
        symbolTexts.add(text);
        symbolIds.put(text, symbolTexts.size() - 1);
        return symbolTexts.size() - 1;
    }

    private Vocabulary vocabulary(List<String> specialTokens, PreTokenizer pre) {
        int n = symbolTexts.size() + specialTokens.size();
        String[] tokens = new String[n];
        int[] types = new int[n];
        for (int id = 0; id < symbolTexts.size(); id++) {
            tokens[id] = symbolTexts.get(id);
            types[id] = TokenType.NORMAL.id();
        }
        int bos = Vocabulary.NO_TOKEN;
        int eos = Vocabulary.NO_TOKEN;
        for (int i = 0; i < specialTokens.size(); i++) {
            String text = specialTokens.get(i);
            if (symbolIds.containsKey(text)) {
                throw new IllegalArgumentException("special token \"" + text + "\" was also learned as a normal token");
            }
            int id = symbolTexts.size() + i;
            tokens[id] = text;
            types[id] = (USER_DEFINED_SPECIALS.contains(text) ? TokenType.USER_DEFINED : TokenType.CONTROL).id();
            if (text.equals(BOS_AND_PAD)) {
                bos = id;
            } else if (text.equals(EOS)) {
                eos = id;
            }
        }
        return new Vocabulary(tokens, types, merges, bos, eos, bos, pre.addBosByDefault(), pre.ggufName());
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | right;
    }

    private static int left(long key) {
        return (int) (key >>> 32);
    }

    private static int right(long key) {
        return (int) key;
    }
}
