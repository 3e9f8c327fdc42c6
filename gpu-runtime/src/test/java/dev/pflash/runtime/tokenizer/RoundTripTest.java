package dev.pflash.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class RoundTripTest {
    private static final List<String> TRICKY = List.of(
            "",
            "Hello, world! The quick brown fox jumps over the lazy dog.",
            "日本語のテキストと中文文本，还有한국어 문서。",
            "emoji 😀 👍🏽 family 👨‍👩‍👧‍👦 flag 🇩🇪 heart ❤️ keycap 1️⃣",
            "combining: e\u0301 a\u0308\u0323 \u0915\u094D\u0937 Z\u0351\u0352\u0357",
            "controls: \u0000 \u0007 \u001b[31mred\u001b[0m \u007f \u0085",
            "whitespace:\t\ttabs  two   three\r\n\r\nCRLF\n\n\n   \u00A0\u2003\u3000end   ",
            "digits 1234567890 and ٣٤٥ and 1.5e-10",
            "contractions: I'm you're they've she'll he'd it's DON'T",
            "special text: <|im_start|>user\nhi<|im_end|>\n<think>\nhmm\n</think>\n<|endoftext|>",
            "almost special: <|im_end| <|im_start <think </think> <|endoftext|>>",
            "math 𝐀𝐁𝐂 ∑∫√ and private use \uE000 and last plane \uDBFF\uDFFD");

    @Test
    void trickyStringsRoundTripWithTrainedVocabulary() {
        assertRoundTrips(new Tokenizer(SampleText.trainedVocabulary()), TRICKY);
    }

    @Test
    void trickyStringsRoundTripWithByteOnlyVocabulary() {
        assertRoundTrips(new Tokenizer(SampleText.byteVocabulary()), TRICKY);
    }

    @Test
    void trickyStringsRoundTripWithLlamaBpeVocabulary() {
        Vocabulary llama = BpeTrainer.train(SampleText.corpus(30_000, 5), 800, PreTokenizer.LLAMA_BPE, List.of("<|eot_id|>"));
        assertRoundTrips(new Tokenizer(llama), TRICKY);
    }

    @Test
    void randomUnicodeRoundTrips() {
        Tokenizer trained = new Tokenizer(SampleText.trainedVocabulary());
        Tokenizer bytes = new Tokenizer(SampleText.byteVocabulary());
        Random random = new Random(42);
        for (int i = 0; i < 500; i++) {
            String s = SampleText.randomUnicode(random, 40);
            assertThat(trained.decode(trained.encode(s, false))).as("trained, case %d", i).isEqualTo(s);
            assertThat(bytes.decode(bytes.encode(s, false))).as("bytes, case %d", i).isEqualTo(s);
            assertThat(trained.decode(trained.encode(s))).as("trained, specials parsed, case %d", i).isEqualTo(s);
        }
    }

    @Test
    void byteOnlyVocabularyGivesOneTokenPerUtf8Byte() {
        Tokenizer bytes = new Tokenizer(SampleText.byteVocabulary());
        // Ids in GPT-2 order: 0x21-0x7E -> 0..93, 0xA1-0xAC -> 94..105, 0xAE-0xFF -> 106..187,
        // 0x00-0x20 -> 188..220, 0x7F-0xA0 -> 221..254. "é" = C3 A9, "😀" = F0 9F 98 80.
        assertThat(bytes.encode("a é😀")).containsExactly(64, 220, 127, 102, 172, 253, 246, 222);
    }

    @Test
    void unpairedSurrogateDecodesAsReplacementCharacter() {
        Tokenizer t = new Tokenizer(SampleText.trainedVocabulary());
        assertThat(t.decode(t.encode("a\uD83Db"))).isEqualTo("a\uFFFDb");
    }

    private static void assertRoundTrips(Tokenizer t, List<String> texts) {
        for (String s : texts) {
            assertThat(t.decode(t.encode(s, false))).as("plain %s", s).isEqualTo(s);
            assertThat(t.decode(t.encode(s, true), true)).as("specials parsed %s", s).isEqualTo(s);
        }
    }
}
