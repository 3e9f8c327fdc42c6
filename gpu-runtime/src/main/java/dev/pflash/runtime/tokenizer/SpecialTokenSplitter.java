package dev.pflash.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts text at occurrences of special tokens before BPE, as llama.cpp's
 * {@code tokenizer_st_partition} does: the tokens typed CONTROL, USER_DEFINED or UNKNOWN are tried
 * longest text first, and each one cuts every remaining text fragment at each exact occurrence,
 * left to right, not overlapping. Without special parsing only USER_DEFINED tokens (such as
 * {@code <think>}) are matched.
 */
final class SpecialTokenSplitter {
    /** A piece of the text: raw text {@code [start, end)} when {@code tokenId < 0}, else a whole token. */
    record Fragment(int start, int end, int tokenId) {
        boolean isToken() {
            return tokenId >= 0;
        }
    }

    private record Special(String text, int id, boolean userDefined) {
    }

    private final List<Special> specials = new ArrayList<>();

    SpecialTokenSplitter(Vocabulary vocabulary) {
        for (int id = 0; id < vocabulary.size(); id++) {
            TokenType type = vocabulary.tokenType(id);
            if (type.isSpecial()) {
                specials.add(new Special(vocabulary.token(id), id, type == TokenType.USER_DEFINED));
            }
        }
        specials.sort(Comparator.comparingInt((Special s) -> -s.text.length()).thenComparingInt(Special::id));
    }

    /** Number of tokens matched as whole strings (llama.cpp logs this as "special tokens cache size"). */
    int size() {
        return specials.size();
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        fragments.add(new Fragment(0, text.length(), -1));
        for (Special special : specials) {
            if (!parseSpecial && !special.userDefined) {
                continue;
            }
            int next = text.indexOf(special.text);
            if (next >= 0) {
                fragments = cut(text, fragments, special, next);
            }
        }
        return fragments;
    }

    private static List<Fragment> cut(String text, List<Fragment> fragments, Special special, int firstOccurrence) {
        List<Fragment> out = new ArrayList<>(fragments.size() + 2);
        int len = special.text.length();
        // Fragments are in text order, so the next occurrence only moves forward: one pass over the text.
        int next = firstOccurrence;
        for (Fragment f : fragments) {
            if (f.isToken() || next < 0) {
                out.add(f);
                continue;
            }
            int cur = f.start;
            if (next < cur) {
                next = text.indexOf(special.text, cur);
            }
            while (next >= 0 && next + len <= f.end) {
                if (next > cur) {
                    out.add(new Fragment(cur, next, -1));
                }
                out.add(new Fragment(next, next + len, special.id));
                cur = next + len;
                next = text.indexOf(special.text, cur);
            }
            if (cur < f.end) {
                out.add(new Fragment(cur, f.end, -1));
            }
        }
        return out;
    }
}
