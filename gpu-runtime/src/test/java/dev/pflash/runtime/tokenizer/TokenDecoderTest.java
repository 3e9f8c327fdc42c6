package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TokenDecoderTest {

    @Test
    void emojiSplitAcrossTokensIsHeldBackUntilComplete() {
        byte[] wave = "👋".getBytes(StandardCharsets.UTF_8);
        String firstHalf = ByteLevelCodec.encode(Arrays.copyOfRange(wave, 0, 2));
        String secondHalf = ByteLevelCodec.encode(Arrays.copyOfRange(wave, 2, 4));
        Tokenizer t = new Tokenizer(new Vocabulary(new String[] {"Hi", "Ġ", firstHalf, secondHalf, "<|im_end|>"},
                new int[] {1, 1, 1, 1, 3}, List.of(), -1, 4, -1, false, "qwen2"));
        TokenDecoder decoder = t.newDecoder();
        assertThat(decoder.push(0)).isEqualTo("Hi");
        assertThat(decoder.push(1)).isEqualTo(" ");
        assertThat(decoder.push(2)).isEmpty();
        assertThat(decoder.push(3)).isEqualTo("👋");
        assertThat(decoder.push(4)).isEmpty();
        assertThat(decoder.flush()).isEmpty();
        assertThat(t.newDecoder(true).push(4)).isEqualTo("<|im_end|>");
    }

    @Test
    void byteTokensStreamOneCharacterAtATime() {
        Tokenizer t = new Tokenizer(SampleText.byteVocabulary());
        TokenDecoder decoder = t.newDecoder();
        int[] ids = t.encode("é😀");
        assertThat(ids).hasSize(6);
        StringBuilder pushed = new StringBuilder();
        for (int id : ids) {
            pushed.append(decoder.push(id)).append('|');
        }
        assertThat(pushed.toString()).isEqualTo("|é|||| 😀|".replace(" ", ""));
    }

    @Test
    void flushReplacesAnUnfinishedCharacter() {
        Tokenizer t = new Tokenizer(SampleText.byteVocabulary());
        TokenDecoder decoder = t.newDecoder();
        int[] ids = t.encode("😀");
        assertThat(decoder.push(ids[0])).isEmpty();
        assertThat(decoder.push(ids[1])).isEmpty();
        assertThat(decoder.flush()).isEqualTo("\uFFFD");
        assertThat(decoder.push(t.encode("a")[0])).isEqualTo("a");
    }

    @Test
    void streamingEqualsBatchDecodingForRandomTokens() {
        Tokenizer trained = new Tokenizer(SampleText.trainedVocabulary());
        Random random = new Random(7);
        for (int round = 0; round < 300; round++) {
            int[] ids = new int[random.nextInt(30)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(trained.vocabSize());
            }
            TokenDecoder decoder = trained.newDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(decoder.push(id));
            }
            streamed.append(decoder.flush());
            assertThat(streamed.toString()).as("round %d", round).isEqualTo(trained.decode(ids));
        }
    }
}
