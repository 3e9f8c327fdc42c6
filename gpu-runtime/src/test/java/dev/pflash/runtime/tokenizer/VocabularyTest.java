package dev.pflash.runtime.tokenizer;

import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufMetadata;
import dev.pflash.runtime.gguf.GgufValue;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VocabularyTest {

    private static Map<String, GgufValue> written(Vocabulary v) {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        v.writeTo(kv::put);
        return kv;
    }

    private static Vocabulary read(Map<String, GgufValue> kv) {
        return Vocabulary.fromMetadata(new GgufMetadata("model.gguf", kv));
    }

    @Test
    void metadataRoundTrip() {
        Vocabulary v = SampleText.trainedVocabulary();
        Map<String, GgufValue> kv = written(v);
        assertThat(kv.keySet()).containsExactly(Vocabulary.KEY_MODEL, Vocabulary.KEY_PRE, Vocabulary.KEY_TOKENS,
                Vocabulary.KEY_TOKEN_TYPE, Vocabulary.KEY_MERGES, Vocabulary.KEY_BOS_ID, Vocabulary.KEY_EOS_ID,
                Vocabulary.KEY_PAD_ID, Vocabulary.KEY_ADD_BOS);
        assertThat(kv.get(Vocabulary.KEY_EOS_ID)).isEqualTo(GgufValue.ofUInt32(1997));
        assertThat(read(kv)).isEqualTo(v);
    }

    @Test
    void absentSpecialIdsAreNotWrittenAndReadBackAsAbsent() {
        Vocabulary v = SampleText.byteVocabulary();
        Map<String, GgufValue> kv = written(v);
        assertThat(kv).doesNotContainKeys(Vocabulary.KEY_BOS_ID, Vocabulary.KEY_EOS_ID, Vocabulary.KEY_PAD_ID);
        Vocabulary back = read(kv);
        assertThat(back).isEqualTo(v);
        assertThat(back.bosId()).isEqualTo(Vocabulary.NO_TOKEN);
    }

    @Test
    void defaultsFollowThePreTokenizer() {
        Map<String, GgufValue> kv = written(SampleText.byteVocabulary());
        kv.remove(Vocabulary.KEY_ADD_BOS);
        kv.remove(Vocabulary.KEY_TOKEN_TYPE);
        assertThat(read(kv).addBos()).isFalse();
        assertThat(read(kv).tokenType(7)).isEqualTo(TokenType.NORMAL);
        kv.put(Vocabulary.KEY_PRE, GgufValue.ofString("llama-bpe"));
        assertThat(read(kv).addBos()).isTrue();
        kv.put(Vocabulary.KEY_ADD_BOS, GgufValue.ofBool(false));
        assertThat(read(kv).addBos()).isFalse();
    }

    @Test
    void aliasIsKeptAndResolved() {
        Map<String, GgufValue> kv = written(SampleText.byteVocabulary());
        kv.put(Vocabulary.KEY_PRE, GgufValue.ofString("deepseek-r1-qwen"));
        Vocabulary v = read(kv);
        assertThat(v.preTokenizer()).isEqualTo(PreTokenizer.QWEN2);
        assertThat(written(v).get(Vocabulary.KEY_PRE)).isEqualTo(GgufValue.ofString("deepseek-r1-qwen"));
    }

    @Test
    void rejectsOtherTokenizerModels() {
        Map<String, GgufValue> kv = written(SampleText.byteVocabulary());
        kv.put(Vocabulary.KEY_MODEL, GgufValue.ofString("llama"));
        assertThatThrownBy(() -> read(kv))
                .isInstanceOf(GgufException.class)
                .hasMessage("model.gguf: tokenizer.ggml.model is \"llama\"; only \"gpt2\" (byte-level BPE) tokenizers are supported");
    }

    @Test
    void rejectsUnknownPreTokenizer() {
        Map<String, GgufValue> kv = written(SampleText.byteVocabulary());
        kv.put(Vocabulary.KEY_PRE, GgufValue.ofString("gpt-4o"));
        assertThatThrownBy(() -> read(kv))
                .isInstanceOf(GgufException.class)
                .hasMessage("model.gguf: tokenizer.ggml.pre is \"gpt-4o\", which is not supported; supported: "
                        + "qwen2, deepseek-r1-qwen, megrez, qwen35, llama-bpe, llama3, llama-v3, falcon3");
        kv.remove(Vocabulary.KEY_PRE);
        assertThatThrownBy(() -> read(kv)).hasMessageStartingWith("model.gguf: missing tokenizer.ggml.pre; supported: qwen2");
    }

    @Test
    void rejectsTokenTypeLengthMismatch() {
        Map<String, GgufValue> kv = written(SampleText.byteVocabulary());
        kv.put(Vocabulary.KEY_TOKEN_TYPE, GgufValue.ofInt32s(List.of(1, 1, 1)));
        assertThatThrownBy(() -> read(kv))
                .isInstanceOf(GgufException.class)
                .hasMessage("model.gguf: tokenizer.ggml.token_type has 3 entries but tokenizer.ggml.tokens has 256;"
                        + " they must have one entry per token");
    }

    @Test
    void rejectsOutOfRangeEosId() {
        Map<String, GgufValue> kv = written(SampleText.byteVocabulary());
        kv.put(Vocabulary.KEY_EOS_ID, GgufValue.ofUInt32(256));
        assertThatThrownBy(() -> read(kv))
                .isInstanceOf(GgufException.class)
                .hasMessage("model.gguf: tokenizer.ggml.eos_token_id = 256 is out of range: the vocabulary has 256 tokens"
                        + " (ids 0..255)");
    }

    @Test
    void rejectsMalformedEntries() {
        int[] normal = {1, 1};
        assertThatThrownBy(() -> new Vocabulary(new String[] {"a", "b"}, normal, List.of("ab"), -1, -1, -1, false, "qwen2"))
                .hasMessage("tokenizer.ggml.merges entry 0 \"ab\" is not two parts separated by a space");
        assertThatThrownBy(() -> new Vocabulary(new String[] {"a", "a"}, normal, List.of(), -1, -1, -1, false, "qwen2"))
                .hasMessage("tokenizer.ggml.tokens entries 0 and 1 are both \"a\"; token texts must be distinct");
        assertThatThrownBy(() -> new Vocabulary(new String[] {"a", ""}, normal, List.of(), -1, -1, -1, false, "qwen2"))
                .hasMessage("tokenizer.ggml.tokens entry 1 is empty");
        assertThatThrownBy(() -> new Vocabulary(new String[] {"a", "b"}, new int[] {1, 9}, List.of(), -1, -1, -1, false, "qwen2"))
                .hasMessage("tokenizer.ggml.token_type entry 1 is 9; valid types are 1 (NORMAL) to 6 (BYTE)");
        assertThatThrownBy(() -> new Vocabulary(new String[] {"a", "b"}, normal, List.of(), -1, -1, -1, false, "bert"))
                .hasMessageStartingWith("tokenizer.ggml.pre is \"bert\", which is not supported");
    }

    @Test
    void tokenizerLoadsFromMetadata() {
        Tokenizer t = Tokenizer.fromMetadata(new GgufMetadata("model.gguf", written(SampleText.trainedVocabulary())));
        assertThat(t.eosId()).isEqualTo(1997);
        assertThat(t.decode(t.encode("round trip ✓"))).isEqualTo("round trip ✓");
    }

    @Test
    void copiesWithOtherSpecialIds() {
        Vocabulary v = SampleText.byteVocabulary().withSpecialIds(1, 2, 3).withAddBos(true);
        assertThat(v.bosId()).isEqualTo(1);
        assertThat(v.eosId()).isEqualTo(2);
        assertThat(v.padId()).isEqualTo(3);
        assertThat(v.addBos()).isTrue();
        assertThatThrownBy(() -> v.withSpecialIds(1, 999, -1)).hasMessageContaining("eos_token_id = 999");
    }
}
