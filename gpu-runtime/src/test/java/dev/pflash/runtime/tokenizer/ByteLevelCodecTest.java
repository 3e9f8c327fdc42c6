package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ByteLevelCodecTest {

    @Test
    void mapsBytesAsGpt2Does() {
        assertThat(ByteLevelCodec.charOf(' ')).isEqualTo('\u0120');
        assertThat(ByteLevelCodec.charOf('\n')).isEqualTo('\u010A');
        assertThat(ByteLevelCodec.charOf(0x00)).isEqualTo('\u0100');
        assertThat(ByteLevelCodec.charOf(0x7F)).isEqualTo('\u0121');
        assertThat(ByteLevelCodec.charOf(0xA0)).isEqualTo('\u0142');
        assertThat(ByteLevelCodec.charOf(0xAD)).isEqualTo('\u0143');
        assertThat(ByteLevelCodec.charOf('A')).isEqualTo('A');
        assertThat(ByteLevelCodec.charOf(0xE9)).isEqualTo('\u00E9');
    }

    @Test
    void mapIsABijectionOnAllBytes() {
        Set<Character> chars = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            char c = ByteLevelCodec.charOf(b);
            chars.add(c);
            assertThat(ByteLevelCodec.byteOf(c)).isEqualTo(b);
        }
        assertThat(chars).hasSize(256);
        assertThat(ByteLevelCodec.byteOf('\u0144')).isEqualTo(-1);
        assertThat(ByteLevelCodec.byteOf(' ')).isEqualTo(-1);
    }

    @Test
    void vocabularyOrderMatchesQwenIds() {
        char[] order = ByteLevelCodec.byteCharsInVocabularyOrder();
        assertThat(order[0]).isEqualTo('!');
        assertThat(order[198]).isEqualTo('\u010A');
        assertThat(order[220]).isEqualTo('\u0120');
        assertThat(order[255]).isEqualTo('\u0143');
    }

    @Test
    void encodesUtf8AndDecodesBack() {
        String text = "a é 日 😀\n";
        String byteLevel = ByteLevelCodec.encode(text);
        assertThat(byteLevel).isEqualTo("aĠÃ©ĠæĹ¥ĠðŁĺĢĊ");
        assertThat(new String(ByteLevelCodec.decode(byteLevel), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(text);
    }

    @Test
    void unpairedSurrogateBecomesReplacementCharacter() {
        assertThat(ByteLevelCodec.utf8("a\uD800b", 0, 3))
                .containsExactly('a', 0xEF, 0xBF, 0xBD, 'b');
        assertThat(ByteLevelCodec.utf8("\uDC00", 0, 1)).containsExactly(0xEF, 0xBF, 0xBD);
    }

    @Test
    void decodeKeepsCharactersOutsideTheMapAsUtf8() {
        assertThat(ByteLevelCodec.decode("a\u4E2D")).containsExactly('a', 0xE4, 0xB8, 0xAD);
    }
}
