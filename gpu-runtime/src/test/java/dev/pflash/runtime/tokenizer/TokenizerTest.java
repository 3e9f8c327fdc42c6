package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizerTest {
    private static final int NORMAL = TokenType.NORMAL.id();
    private static final int CONTROL = TokenType.CONTROL.id();
    private static final int USER_DEFINED = TokenType.USER_DEFINED.id();

    /**
     * ids: 0 a, 1 b, 2 c, 3 d, 4 ab, 5 bc, 6 abc, 7 Ġ, 8 Ġa, 9 cda, 10 {@code <|im_end|>}, 11 {@code <think>}.
     * "cd" is a merge result but not a token, so it must be spelled out when BPE ends on it.
     */
    private static final Tokenizer HAND_MADE = new Tokenizer(new Vocabulary(
            new String[] {"a", "b", "c", "d", "ab", "bc", "abc", "Ġ", "Ġa", "cda", "<|im_end|>", "<think>"},
            new int[] {NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, CONTROL, USER_DEFINED},
            List.of("b c", "a b", "a bc", "Ġ a", "c d", "cd a"),
            Vocabulary.NO_TOKEN, 10, Vocabulary.NO_TOKEN, false, "qwen2"));

    @Test
    void lowerRankMergeWinsOverLeftmostPair() {
        // (a,b) is leftmost but has rank 1; (b,c) has rank 0, then (a,bc) rank 2 gives abc.
        assertThat(HAND_MADE.encode("abc")).containsExactly(6);
        // (a,bc) rank 2 is applied before (Ġ,a) rank 3, which then no longer exists.
        assertThat(HAND_MADE.encode(" abc")).containsExactly(7, 6);
        assertThat(HAND_MADE.encode(" a")).containsExactly(8);
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        assertThat(HAND_MADE.encode("abab")).containsExactly(4, 4);
        assertThat(HAND_MADE.encode("bcbc")).containsExactly(5, 5);
    }

    @Test
    void symbolThatIsNotATokenFallsBackToBytes() {
        assertThat(HAND_MADE.encode("cda")).containsExactly(9);
        assertThat(HAND_MADE.encode("cd")).containsExactly(2, 3);
    }

    @Test
    void byteWithoutTokenIsReportedByValue() {
        assertThatThrownBy(() -> HAND_MADE.encode("az"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("byte 0x7A");
        assertThatThrownBy(() -> HAND_MADE.encode("\n"))
                .hasMessageContaining("byte 0x0A (stored as \"Ċ\")");
    }

    @Test
    void specialTokensAreCutOutBeforeBpe() {
        assertThat(HAND_MADE.encode("ab<|im_end|>c")).containsExactly(4, 10, 2);
        assertThat(HAND_MADE.encode("<|im_end|><|im_end|>")).containsExactly(10, 10);
        assertThat(HAND_MADE.encode("a<think>bc", false)).containsExactly(0, 11, 5);
    }

    @Test
    void longerSpecialTokenIsMatchedFirst() {
        Tokenizer t = new Tokenizer(new Vocabulary(new String[] {"x", "<a>", "<a><b>"},
                new int[] {NORMAL, CONTROL, CONTROL}, List.of(), -1, -1, -1, false, "qwen2"));
        assertThat(t.encode("<a><b><a>x<a>")).containsExactly(2, 1, 0, 1);
    }

    @Test
    void llamaBpeEmitsWholePieceFoundInVocabulary() {
        String[] tokens = {"a", "b", "c", "ab", "cab", "<|begin_of_text|>"};
        int[] types = {NORMAL, NORMAL, NORMAL, NORMAL, NORMAL, CONTROL};
        List<String> merges = List.of("a b");
        Tokenizer qwen = new Tokenizer(new Vocabulary(tokens, types, merges, 5, -1, -1, false, "qwen2"));
        Tokenizer llama = new Tokenizer(new Vocabulary(tokens, types, merges, 5, -1, -1, true, "llama-bpe"));
        assertThat(qwen.encode("cab")).containsExactly(2, 3);
        assertThat(llama.encode("cab")).containsExactly(4);
        assertThat(llama.encode("abc")).containsExactly(3, 2);
    }

    @Test
    void bosIsAddedOnlyWhenTheVocabularyAsksAndOnlyOnce() {
        String[] tokens = {"a", "b", "<|begin_of_text|>"};
        int[] types = {NORMAL, NORMAL, CONTROL};
        Tokenizer withBos = new Tokenizer(new Vocabulary(tokens, types, List.of(), 2, -1, -1, true, "llama-bpe"));
        Tokenizer withoutBos = new Tokenizer(new Vocabulary(tokens, types, List.of(), 2, -1, -1, false, "llama-bpe"));
        assertThat(withBos.encodeWithBos("ab")).containsExactly(2, 0, 1);
        assertThat(withBos.encodeWithBos("<|begin_of_text|>ab")).containsExactly(2, 0, 1);
        assertThat(withBos.encode("ab")).containsExactly(0, 1);
        assertThat(withoutBos.encodeWithBos("ab")).containsExactly(0, 1);
    }

    @Test
    void decodeHidesControlTokensUnlessAsked() {
        int[] ids = {4, 10, 11, 2};
        assertThat(HAND_MADE.decode(ids)).isEqualTo("ab<think>c");
        assertThat(HAND_MADE.decode(ids, true)).isEqualTo("ab<|im_end|><think>c");
        assertThat(HAND_MADE.decode(new int[] {7, 8})).isEqualTo("  a");
    }

    @Test
    void decodeReplacesInvalidUtf8() {
        Tokenizer bytes = new Tokenizer(SampleText.byteVocabulary());
        int[] ids = new int[] {id(bytes, 0xF0), id(bytes, 0x9F), id(bytes, 'a'), id(bytes, 0xFF)};
        assertThat(bytes.decode(ids)).isEqualTo("\uFFFDa\uFFFD");
        assertThatThrownBy(() -> bytes.decode(new int[] {256}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id 256 is out of range");
    }

    @Test
    void unusedTokensDecodeToNothing() {
        Tokenizer t = new Tokenizer(new Vocabulary(new String[] {"a", "[PAD0]"},
                new int[] {NORMAL, TokenType.UNUSED.id()}, List.of(), -1, -1, -1, false, "qwen2"));
        assertThat(t.decode(new int[] {0, 1, 0}, true)).isEqualTo("aa");
    }

    @Test
    void accessorsOnTrainedVocabulary() {
        Tokenizer t = new Tokenizer(SampleText.trainedVocabulary());
        assertThat(t.vocabSize()).isEqualTo(2000);
        assertThat(t.bosId()).isEqualTo(1995);
        assertThat(t.eosId()).isEqualTo(1997);
        assertThat(t.stopTokenIds()).containsExactly(1995, 1997);
        assertThat(t.isStopToken(1997)).isTrue();
        assertThat(t.isStopToken(1996)).isFalse();
        assertThat(t.tokenId("Ġ")).hasValue(220);
        assertThat(t.tokenId("<|im_start|>")).hasValue(1996);
        assertThat(t.tokenId("no such token")).isEmpty();
        assertThat(t.tokenText(1998)).isEqualTo("<think>");
        assertThat(t.tokenType(1998)).isEqualTo(TokenType.USER_DEFINED);
        assertThat(t.tokenType(1996)).isEqualTo(TokenType.CONTROL);
        assertThatThrownBy(() -> t.tokenText(2000)).hasMessageContaining("token id 2000 is out of range");
    }

    @Test
    void specialTextInDocumentsStaysTextWithoutSpecialParsing() {
        Tokenizer t = new Tokenizer(SampleText.trainedVocabulary());
        int imEnd = t.tokenId("<|im_end|>").getAsInt();
        int[] parsed = t.encode("a<|im_end|>b");
        assertThat(parsed).containsExactly(64, imEnd, 65);
        int[] plain = t.encode("a<|im_end|>b", false);
        assertThat(plain).doesNotContain(imEnd);
        assertThat(t.decode(plain)).isEqualTo("a<|im_end|>b");
        assertThat(t.decode(parsed)).isEqualTo("ab");
        assertThat(t.decode(parsed, true)).isEqualTo("a<|im_end|>b");
    }

    @Test
    void encodesLargeTextAsItsPiecesEncodedOneByOne() {
        Tokenizer t = new Tokenizer(SampleText.trainedVocabulary());
        String text = SampleText.corpus(1_000_000, 7);
        int[] ids = t.encode(text, false);
        assertThat(t.decode(ids)).isEqualTo(text);
        // Each piece alone, through a fresh tokenizer, so no cached result is reused.
        Tokenizer fresh = new Tokenizer(SampleText.trainedVocabulary());
        IntList expected = new IntList(ids.length);
        for (String piece : PreTokenizer.QWEN2.split(text)) {
            expected.addAll(fresh.encode(piece, false));
        }
        assertThat(ids).isEqualTo(expected.toArray());
        assertThat(ids.length).isLessThan(text.length() / 2);
    }

    private static int id(Tokenizer t, int b) {
        return t.tokenId(String.valueOf(ByteLevelCodec.charOf(b))).getAsInt();
    }
}
