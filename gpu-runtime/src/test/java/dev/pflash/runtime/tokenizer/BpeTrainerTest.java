package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpeTrainerTest {

    @Test
    void learnsMostFrequentPairsFirstWithLexicographicTieBreak() {
        // Pieces "low", "Ġlower", "Ġlowest". (l,o) and (o,w) both occur 3 times: "l" < "o".
        // Then (Ġ,low) and (low,e) both 2: "low" < "Ġ" (U+0120). Then all pairs occur once.
        Vocabulary v = BpeTrainer.train("low lower lowest", 256 + 6, PreTokenizer.QWEN2, List.of());
        assertThat(v.merges()).containsExactly("l o", "lo w", "low e", "Ġ lowe", "s t", "Ġlowe r");
        assertThat(v.tokens().subList(256, 262)).containsExactly("lo", "low", "lowe", "Ġlowe", "st", "Ġlower");
        assertThat(v.size()).isEqualTo(262);
    }

    @Test
    void baseVocabularyIsTheByteTableInGpt2Order() {
        Vocabulary v = SampleText.byteVocabulary();
        assertThat(v.size()).isEqualTo(256);
        assertThat(v.merges()).isEmpty();
        assertThat(v.token(0)).isEqualTo("!");
        assertThat(v.token(198)).isEqualTo("Ċ");
        assertThat(v.token(220)).isEqualTo("Ġ");
        assertThat(v.tokenType(100)).isEqualTo(TokenType.NORMAL);
    }

    @Test
    void appendsSpecialTokensWithQwenTypesAndIds() {
        Vocabulary v = SampleText.trainedVocabulary();
        assertThat(v.size()).isEqualTo(2000);
        assertThat(v.tokens().subList(1995, 2000)).containsExactlyElementsOf(SampleText.DEMO_SPECIALS);
        assertThat(v.tokenType(1995)).isEqualTo(TokenType.CONTROL);
        assertThat(v.tokenType(1997)).isEqualTo(TokenType.CONTROL);
        assertThat(v.tokenType(1998)).isEqualTo(TokenType.USER_DEFINED);
        assertThat(v.tokenType(1999)).isEqualTo(TokenType.USER_DEFINED);
        assertThat(v.bosId()).isEqualTo(1995);
        assertThat(v.padId()).isEqualTo(1995);
        assertThat(v.eosId()).isEqualTo(1997);
        assertThat(v.addBos()).isFalse();
        assertThat(v.preTokenizerName()).isEqualTo("qwen2");
        assertThat(v.merges()).hasSize(1995 - 256);
    }

    @Test
    void isDeterministic() {
        String corpus = SampleText.corpus(60_000, 11);
        Vocabulary first = BpeTrainer.train(corpus, 1200, PreTokenizer.QWEN2, SampleText.DEMO_SPECIALS);
        Vocabulary second = BpeTrainer.train(corpus, 1200, PreTokenizer.QWEN2, SampleText.DEMO_SPECIALS);
        assertThat(second).isEqualTo(first);
        assertThat(second.merges()).isEqualTo(first.merges());
    }

    @Test
    void trainsDemoSizedVocabularyThatCompressesAndRoundTrips() {
        String corpus = SampleText.corpus(300_000, 3);
        Vocabulary v = BpeTrainer.train(corpus, 256 + 4000 + 5, PreTokenizer.QWEN2, SampleText.DEMO_SPECIALS);
        assertThat(v.size()).isEqualTo(4261);
        Tokenizer t = new Tokenizer(v);
        String unseen = SampleText.corpus(20_000, 99);
        int[] ids = t.encode(unseen, false);
        assertThat(t.decode(ids)).isEqualTo(unseen);
        // Unseen text has other made-up words, so compression is weaker than on the corpus itself.
        assertThat(ids.length).isLessThan(unseen.length() / 2);
        Random random = new Random(5);
        for (int i = 0; i < 200; i++) {
            String s = SampleText.randomUnicode(random, 30);
            assertThat(t.decode(t.encode(s, false))).isEqualTo(s);
        }
    }

    @Test
    void specialTokenTextInTheCorpusIsNotLearned() {
        String corpus = "<|im_end|><|im_end|><|im_end|>ab ab";
        Vocabulary v = BpeTrainer.train(corpus, 256 + 1 + 1, PreTokenizer.QWEN2, List.of("<|im_end|>"));
        assertThat(v.merges()).containsExactly("a b");
    }

    @Test
    void rejectsSizesTheCorpusCannotFill() {
        assertThatThrownBy(() -> BpeTrainer.train("ab ab", 300, PreTokenizer.QWEN2, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("yields only 2 merged tokens, 44 are needed");
        assertThatThrownBy(() -> BpeTrainer.train("ab", 257, PreTokenizer.QWEN2, List.of("<a>", "<b>")))
                .hasMessageContaining("smaller than the 256 byte tokens plus 2 special tokens");
        assertThatThrownBy(() -> BpeTrainer.train("ab", 300, PreTokenizer.QWEN2, List.of("<a>", "<a>")))
                .hasMessageContaining("distinct");
    }
}
