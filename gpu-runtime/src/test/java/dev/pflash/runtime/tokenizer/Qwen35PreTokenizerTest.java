package dev.pflash.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The {@code qwen35} split pattern against {@code qwen2}'s, on cases read off the pattern: its word
 * alternative is {@code [^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+} (marks are word characters) and its
 * punctuation run {@code  ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*} (marks are not punctuation); digits
 * stay one by one.
 */
class Qwen35PreTokenizerTest {
    private static final String ACUTE = "\u0301";

    @Test
    void qwen35IsTheTokenizerOfItsGgufName() {
        assertThat(PreTokenizer.forGgufName("qwen35")).contains(PreTokenizer.QWEN35);
        assertThat(PreTokenizer.supportedGgufNames()).contains("qwen35");
    }

    @Test
    void aCombiningMarkStaysInItsWord() {
        String text = "cafe" + ACUTE + " au lait";
        assertThat(PreTokenizer.QWEN35.split(text)).containsExactly("cafe" + ACUTE, " au", " lait");
        // qwen2: the mark is neither letter nor digit nor space, so it is a punctuation run of its own.
        assertThat(PreTokenizer.QWEN2.split(text)).containsExactly("cafe", ACUTE, " au", " lait");
    }

    @Test
    void aWordMayStartWithAMark() {
        String text = "x " + ACUTE + "abc";
        assertThat(PreTokenizer.QWEN35.split(text)).containsExactly("x", " " + ACUTE + "abc");
        assertThat(PreTokenizer.QWEN2.split(text)).containsExactly("x", " " + ACUTE, "abc");
    }

    @Test
    void devanagariVowelSignsAndViramaJoinTheirLetters() {
        // न म स ् त े: letters, a virama (Mn) and a vowel sign (Mc).
        String namaste = "\u0928\u092E\u0938\u094D\u0924\u0947";
        assertThat(PreTokenizer.QWEN35.split(namaste + " 42")).containsExactly(namaste, " ", "4", "2");
        // qwen2: the virama is the optional non-letter before the next letter run, the vowel sign left alone.
        assertThat(PreTokenizer.QWEN2.split(namaste)).containsExactly("\u0928\u092E\u0938", "\u094D\u0924", "\u0947");
    }

    @Test
    void marksAreNotPunctuation() {
        // A mark ends the punctuation run and begins a word; qwen2 keeps it in the punctuation run.
        assertThat(PreTokenizer.QWEN35.split("?!" + ACUTE + "e")).containsExactly("?!", ACUTE + "e");
        assertThat(PreTokenizer.QWEN2.split("?!" + ACUTE + "e")).containsExactly("?!" + ACUTE, "e");
    }

    @Test
    void piecesCoverTheText() {
        String text = "Zoe" + ACUTE + "\u0308's 2026 r\u00E9sum\u00E9s\u2014na\u0131\u0308ve\n\n  end";
        assertThat(String.join("", PreTokenizer.QWEN35.split(text))).isEqualTo(text);
    }
}
