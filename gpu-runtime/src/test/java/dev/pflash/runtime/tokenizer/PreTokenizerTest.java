package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import static dev.pflash.runtime.tokenizer.PreTokenizer.LLAMA_BPE;
import static dev.pflash.runtime.tokenizer.PreTokenizer.QWEN2;
import static org.assertj.core.api.Assertions.assertThat;

class PreTokenizerTest {

    @Test
    void splitsWordsWithTheirLeadingSpace() {
        assertThat(QWEN2.split("Hello world, again!")).containsExactly("Hello", " world", ",", " again", "!");
    }

    @Test
    void qwen2SplitsDigitsOneByOne() {
        assertThat(QWEN2.split("abc 12345 x")).containsExactly("abc", " ", "1", "2", "3", "4", "5", " x");
        assertThat(QWEN2.split("\u0663\u0664")).containsExactly("\u0663", "\u0664");
    }

    @Test
    void llamaBpeGroupsDigitsByThree() {
        assertThat(LLAMA_BPE.split("abc 1234567 x")).containsExactly("abc", " ", "123", "456", "7", " x");
    }

    @Test
    void contractionsAreCaseInsensitive() {
        assertThat(QWEN2.split("I'm DON'T he'LL we'Ve")).containsExactly("I", "'m", " DON", "'T", " he", "'LL", " we", "'Ve");
    }

    @Test
    void lineBreaksAndWhitespaceRuns() {
        assertThat(QWEN2.split("a\r\nb")).containsExactly("a", "\r\n", "b");
        assertThat(QWEN2.split("hello   \n\nworld")).containsExactly("hello", "   \n\n", "world");
        assertThat(QWEN2.split("x  hello")).containsExactly("x", " ", " hello");
        assertThat(QWEN2.split("end   ")).containsExactly("end", "   ");
        assertThat(QWEN2.split("\tfoo")).containsExactly("\tfoo");
    }

    @Test
    void unicodeWhitespaceIsWhitespace() {
        // Without UNICODE_CHARACTER_CLASS the em spaces would be one punctuation-like piece.
        assertThat(QWEN2.split("a\u2003\u2003b")).containsExactly("a", "\u2003", "\u2003b");
        assertThat(QWEN2.split("a\u00A0b")).containsExactly("a", "\u00A0b");
    }

    @Test
    void cjkEmojiAndPunctuation() {
        // A punctuation mark joins the letters after it, like a space does.
        assertThat(QWEN2.split("你好世界。再见")).containsExactly("你好世界", "。再见");
        assertThat(QWEN2.split("你好。 再见")).containsExactly("你好", "。", " 再见");
        assertThat(QWEN2.split("hi 👋🏽!")).containsExactly("hi", " 👋🏽!");
        assertThat(QWEN2.split("👨‍👩‍👧 ok")).containsExactly("👨‍👩‍👧", " ok");
        assertThat(QWEN2.split("e\u0301t\u00E9")).containsExactly("e", "\u0301t\u00E9");
    }

    @Test
    void piecesCoverTheText() {
        String text = "  Mixed: 12ab\r\n\r\n\t x\u3000y 😀😀 'S '  \n";
        assertThat(String.join("", QWEN2.split(text))).isEqualTo(text);
        assertThat(String.join("", LLAMA_BPE.split(text))).isEqualTo(text);
    }

    @Test
    void resolvesGgufNamesAndAliases() {
        assertThat(PreTokenizer.forGgufName("qwen2")).contains(QWEN2);
        assertThat(PreTokenizer.forGgufName("deepseek-r1-qwen")).contains(QWEN2);
        assertThat(PreTokenizer.forGgufName("llama3")).contains(LLAMA_BPE);
        assertThat(PreTokenizer.forGgufName("gpt-4o")).isEmpty();
        assertThat(QWEN2.addBosByDefault()).isFalse();
        assertThat(LLAMA_BPE.addBosByDefault()).isTrue();
        assertThat(LLAMA_BPE.ignoresMerges()).isTrue();
    }
}
