package dev.pflash.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The regex that cuts text into pieces before BPE (merges never cross a piece boundary), one
 * constant per {@code tokenizer.ggml.pre} family that llama.cpp handles the same way.
 *
 * <p>The patterns are the Hugging Face originals with the case-insensitive contraction group
 * spelled out, as llama.cpp writes them. They are compiled with
 * {@link Pattern#UNICODE_CHARACTER_CLASS} so that {@code \s} is Unicode white space, not only
 * ASCII. The last alternative {@code \s+} matches anything the others leave, so consecutive
 * matches cover the text without gaps.
 */
public enum PreTokenizer {
    /** Qwen2, Qwen2.5, Qwen3: digits one by one; BOS not added by default. */
    QWEN2("qwen2", List.of("qwen2", "deepseek-r1-qwen", "megrez"), "\\p{L}", "\\p{N}", false, false),
    /**
     * Qwen3.5, Qwen3.6: as qwen2, but combining marks ({@code \p{M}}) belong to words: a letter
     * run takes the marks inside and after it, and marks never start a punctuation run.
     */
    QWEN35("qwen35", List.of("qwen35"), "\\p{L}\\p{M}", "\\p{N}", false, false),
    /**
     * Llama-3: digits in groups of up to three; BOS added by default; a piece that is itself a
     * vocabulary entry is emitted whole, without BPE ("ignore_merges").
     */
    LLAMA_BPE("llama-bpe", List.of("llama-bpe", "llama3", "llama-v3", "falcon3"), "\\p{L}", "\\p{N}{1,3}", true,
            true);

    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

    private final String ggufName;
    private final List<String> ggufAliases;
    private final Pattern pattern;
    private final boolean addBosByDefault;
    private final boolean ignoresMerges;

    /** @param word the classes a word is made of (inside a character class) */
    PreTokenizer(String ggufName, List<String> ggufAliases, String word, String digits, boolean addBosByDefault,
                 boolean ignoresMerges) {
        this.ggufName = ggufName;
        this.ggufAliases = ggufAliases;
        this.pattern = Pattern.compile(CONTRACTIONS
                + "|[^\\r\\n\\p{L}\\p{N}]?[" + word + "]+"
                + "|" + digits
                + "| ?[^\\s" + word + "\\p{N}]+[\\r\\n]*"
                + "|\\s*[\\r\\n]+"
                + "|\\s+(?!\\S)"
                + "|\\s+", Pattern.UNICODE_CHARACTER_CLASS);
        this.addBosByDefault = addBosByDefault;
        this.ignoresMerges = ignoresMerges;
    }

    /** The value this pre-tokenizer is written as in {@code tokenizer.ggml.pre}. */
    public String ggufName() {
        return ggufName;
    }

    /** Whether BOS is prepended when the file has no {@code tokenizer.ggml.add_bos_token}. */
    public boolean addBosByDefault() {
        return addBosByDefault;
    }

    /** Whether a piece found verbatim in the vocabulary is emitted as one token without BPE. */
    public boolean ignoresMerges() {
        return ignoresMerges;
    }

    /** The compiled split pattern; use {@link Matcher#find()} left to right. */
    public Pattern pattern() {
        return pattern;
    }

    /** The pieces of {@code text} in order; their concatenation is {@code text}. */
    public List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            pieces.add(m.group());
        }
        return pieces;
    }

    /** The pre-tokenizer for a {@code tokenizer.ggml.pre} value or one of its aliases. */
    public static Optional<PreTokenizer> forGgufName(String name) {
        for (PreTokenizer p : values()) {
            if (p.ggufAliases.contains(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Every accepted {@code tokenizer.ggml.pre} value, for error messages. */
    public static List<String> supportedGgufNames() {
        List<String> names = new ArrayList<>();
        for (PreTokenizer p : values()) {
            names.addAll(p.ggufAliases);
        }
        return names;
    }
}
