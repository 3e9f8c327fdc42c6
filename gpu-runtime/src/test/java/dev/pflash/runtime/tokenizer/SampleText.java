package dev.pflash.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Deterministic sample texts and vocabularies shared by the tokenizer tests. */
final class SampleText {
    private static final List<String> WORDS = List.of(
            "the", "model", "reads", "documents", "and", "writes", "a", "short", "summary", "of", "each", "one",
            "tokens", "are", "merged", "by", "rank", "prefix", "cache", "is", "shared", "between", "prompts",
            "attention", "scores", "select", "blocks", "that", "matter", "GPU", "memory", "holds", "weights",
            "Qwen3", "drafter", "target", "speculative", "prefill", "it's", "don't", "we'll", "they've", "I'm",
            "café", "naïve", "résumé", "Straße", "Ελληνικά", "русский", "日本語", "中文", "문서", "العربية");
    private static final List<String> SYLLABLES = List.of(
            "ka", "to", "ri", "men", "sa", "lo", "ve", "un", "dis", "ter", "pro", "ble", "ing", "ed", "tion", "al",
            "con", "re", "de", "in", "ex", "ma", "ni", "po", "qu", "st", "ight", "ous", "ment", "ly", "er", "an",
            "zo", "fu", "gri", "wh", "sch", "ä", "ö", "é", "ß");
    private static final List<String> SEPARATORS = List.of(
            " ", " ", " ", " ", " ", ", ", ". ", "\n", "  ", "\t", "\r\n", "; ", " (", ") ", "! ", "? ", " - ");

    /** The special tokens of the demo models, in the order the demo generator adds them. */
    static final List<String> DEMO_SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>");

    private static Vocabulary trained;

    private SampleText() {
    }

    /**
     * About {@code chars} characters of made-up text: a lexicon of a few thousand words built from
     * syllables (plus real words in several scripts), drawn with a skewed frequency like natural
     * text, with numbers, emoji, punctuation and line breaks.
     */
    static String corpus(int chars, long seed) {
        Random random = new Random(seed);
        List<String> lexicon = new ArrayList<>(WORDS);
        for (int i = 0; i < 4000; i++) {
            StringBuilder w = new StringBuilder();
            int syllables = 1 + random.nextInt(4);
            for (int s = 0; s < syllables; s++) {
                w.append(SYLLABLES.get(random.nextInt(SYLLABLES.size())));
            }
            lexicon.add(random.nextInt(8) == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w.toString());
        }
        StringBuilder sb = new StringBuilder(chars + 64);
        while (sb.length() < chars) {
            int r = random.nextInt(25);
            if (r == 0) {
                sb.append(random.nextInt(100_000));
            } else if (r == 1) {
                sb.append("😀👍🏽");
            } else {
                // Cubing a uniform draw makes low indexes (the real words first) far more frequent.
                double u = random.nextDouble();
                sb.append(lexicon.get((int) (u * u * u * lexicon.size())));
            }
            sb.append(SEPARATORS.get(random.nextInt(SEPARATORS.size())));
        }
        return sb.toString();
    }

    /** A demo-like vocabulary: 2,000 tokens trained on 100 KB with the demo special tokens. */
    static synchronized Vocabulary trainedVocabulary() {
        if (trained == null) {
            trained = BpeTrainer.train(corpus(100_000, 1), 2_000, PreTokenizer.QWEN2, DEMO_SPECIALS);
        }
        return trained;
    }

    /** Only the 256 byte tokens: every text is encoded one token per byte. */
    static Vocabulary byteVocabulary() {
        return BpeTrainer.train("", 256, PreTokenizer.QWEN2, List.of());
    }

    /** A random string of code points drawn from ranges that stress the tokenizer. */
    static String randomUnicode(Random random, int maxCodePoints) {
        int[][] ranges = {
                {0x00, 0x1F}, {0x20, 0x7E}, {0x7F, 0xFF}, {0x300, 0x36F}, {0x391, 0x3C9}, {0x400, 0x4FF},
                {0x600, 0x6FF}, {0x2000, 0x206F}, {0x3000, 0x303F}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3},
                {0xFE00, 0xFE0F}, {0x1F300, 0x1F6FF}, {0x1F3FB, 0x1F3FF}, {0x1D400, 0x1D7FF}, {0x10000, 0x10FFFF}};
        int n = random.nextInt(maxCodePoints + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int[] range = ranges[random.nextInt(ranges.length)];
            int cp = range[0] + random.nextInt(range[1] - range[0] + 1);
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }
}
