package dev.pflash.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The merge rules of a vocabulary over integer symbols, so that BPE runs on ints instead of
 * strings. A symbol is a token id, or, for a merge part or result that is not itself a token
 * (legal in GGUF, rare in practice), an extra id at or above the vocabulary size that remembers
 * its text; such symbols are spelled out byte by byte when BPE ends, as llama.cpp does.
 */
final class BpeMerges {
    private static final long EMPTY = -1L;

    private final int vocabSize;
    private final List<String> extraSymbolTexts = new ArrayList<>();
    private final Map<String, Integer> extraSymbolIds = new HashMap<>();
    private final int[] byteSymbols = new int[256];
    private final int[] mergedSymbols;
    /** Open addressing: key (left << 32 | right), value the lowest rank of that pair. */
    private final long[] pairKeys;
    private final int[] pairRanks;
    private final int mask;
    private final int hashShift;

    BpeMerges(Vocabulary vocabulary, Map<String, Integer> tokenIds) {
        this.vocabSize = vocabulary.size();
        for (int b = 0; b < 256; b++) {
            byteSymbols[b] = symbol(String.valueOf(ByteLevelCodec.charOf(b)), tokenIds);
        }
        List<String> merges = vocabulary.merges();
        int capacity = Integer.highestOneBit(Math.max(4, merges.size() * 2 - 1)) << 1;
        pairKeys = new long[capacity];
        Arrays.fill(pairKeys, EMPTY);
        pairRanks = new int[capacity];
        mask = capacity - 1;
        hashShift = Long.numberOfLeadingZeros(capacity) + 1;
        mergedSymbols = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String m = merges.get(rank);
            int space = m.indexOf(' ', 1);
            String left = m.substring(0, space);
            String right = m.substring(space + 1);
            mergedSymbols[rank] = symbol(left + right, tokenIds);
            putIfAbsent(key(symbol(left, tokenIds), symbol(right, tokenIds)), rank);
        }
    }

    /** The symbol BPE starts from for byte {@code b}. */
    int byteSymbol(int b) {
        return byteSymbols[b];
    }

    /** The rank of merging {@code left} and {@code right}, or -1 when no rule merges them. */
    int rank(int left, int right) {
        long k = key(left, right);
        for (int slot = slot(k); ; slot = (slot + 1) & mask) {
            long stored = pairKeys[slot];
            if (stored == k) {
                return pairRanks[slot];
            }
            if (stored == EMPTY) {
                return -1;
            }
        }
    }

    /** The symbol a merge of rank {@code rank} produces. */
    int mergedSymbol(int rank) {
        return mergedSymbols[rank];
    }

    /** Whether {@code symbol} is a token id (else its text must be spelled out). */
    boolean isToken(int symbol) {
        return symbol < vocabSize;
    }

    /** The byte-level text of a symbol that is not a token. */
    String extraSymbolText(int symbol) {
        return extraSymbolTexts.get(symbol - vocabSize);
    }

    private int symbol(String text, Map<String, Integer> tokenIds) {
        Integer id = tokenIds.get(text);
        if (id != null) {
            return id;
        }
        return extraSymbolIds.computeIfAbsent(text, t -> {
            extraSymbolTexts.add(t);
            return vocabSize + extraSymbolTexts.size() - 1;
        });
    }

    private void putIfAbsent(long k, int rank) {
        for (int slot = slot(k); ; slot = (slot + 1) & mask) {
            if (pairKeys[slot] == k) {
                return;
            }
            if (pairKeys[slot] == EMPTY) {
                pairKeys[slot] = k;
                pairRanks[slot] = rank;
                return;
            }
        }
    }

    private int slot(long k) {
        return (int) ((k * 0x9E3779B97F4A7C15L) >>> hashShift);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }
}
