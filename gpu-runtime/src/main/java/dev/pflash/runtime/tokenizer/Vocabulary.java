package dev.pflash.runtime.tokenizer;

import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.GgufMetadata;
import dev.pflash.runtime.gguf.GgufValue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * A byte-level BPE vocabulary as GGUF stores it: token texts (byte-level encoded, see
 * {@link ByteLevelCodec}; CONTROL and USER_DEFINED tokens are raw text), their types, the merge
 * list in rank order ("A B", rank = index), the special ids and the pre-tokenizer name.
 * Immutable and validated on construction: every id is in range, every merge has two parts, token
 * texts are non-empty and distinct.
 */
public final class Vocabulary {
    public static final String KEY_MODEL = "tokenizer.ggml.model";
    public static final String KEY_PRE = "tokenizer.ggml.pre";
    public static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    public static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String KEY_MERGES = "tokenizer.ggml.merges";
    public static final String KEY_BOS_ID = "tokenizer.ggml.bos_token_id";
    public static final String KEY_EOS_ID = "tokenizer.ggml.eos_token_id";
    public static final String KEY_PAD_ID = "tokenizer.ggml.padding_token_id";
    public static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    /** The only {@code tokenizer.ggml.model} supported: byte-level BPE. */
    public static final String MODEL_GPT2 = "gpt2";

    /** Id value for a special token the vocabulary does not have. */
    public static final int NO_TOKEN = -1;

    private final String[] tokens;
    private final int[] tokenTypes;
    private final List<String> merges;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final boolean addBos;
    private final String preTokenizerName;
    private final PreTokenizer preTokenizer;

    /**
     * @param tokens           token texts by id
     * @param tokenTypes       {@link TokenType} ids by token id, same length as {@code tokens}
     * @param merges           merge rules "A B", lowest rank first
     * @param bosId            begin-of-sequence id or {@link #NO_TOKEN}
     * @param eosId            end-of-sequence id or {@link #NO_TOKEN}
     * @param padId            padding id or {@link #NO_TOKEN}
     * @param addBos           whether BOS is prepended when a caller asks for it
     * @param preTokenizerName a {@code tokenizer.ggml.pre} value of {@link PreTokenizer}
     * @throws IllegalArgumentException naming the first problem found
     */
    public Vocabulary(String[] tokens, int[] tokenTypes, List<String> merges, int bosId, int eosId, int padId,
                      boolean addBos, String preTokenizerName) {
        this.tokens = tokens.clone();
        this.tokenTypes = tokenTypes.clone();
        this.merges = List.copyOf(merges);
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
        this.addBos = addBos;
        this.preTokenizerName = Objects.requireNonNull(preTokenizerName, "preTokenizerName");
        this.preTokenizer = PreTokenizer.forGgufName(preTokenizerName).orElseThrow(() -> new IllegalArgumentException(
                KEY_PRE + " is \"" + preTokenizerName + "\", which is not supported; supported: "
                        + String.join(", ", PreTokenizer.supportedGgufNames())));
        validate();
    }

    /**
     * Reads the tokenizer keys of a model's metadata. {@code tokenizer.ggml.token_type} may be
     * absent (every token is then NORMAL, as llama.cpp assumes); {@code add_bos_token} defaults to
     * the pre-tokenizer's choice (false for qwen2, true for llama-bpe).
     *
     * @throws GgufException naming the model source and the key that is missing or wrong
     */
    public static Vocabulary fromMetadata(GgufMetadata md) {
        String model = md.findString(KEY_MODEL).orElseThrow(() -> new GgufException(md.source(),
                "missing " + KEY_MODEL + "; only \"" + MODEL_GPT2 + "\" (byte-level BPE) tokenizers are supported"));
        if (!MODEL_GPT2.equals(model)) {
            throw new GgufException(md.source(), KEY_MODEL + " is \"" + model
                    + "\"; only \"" + MODEL_GPT2 + "\" (byte-level BPE) tokenizers are supported");
        }
        String supported = "supported: " + String.join(", ", PreTokenizer.supportedGgufNames());
        String pre = md.findString(KEY_PRE).orElseThrow(() -> new GgufException(md.source(),
                "missing " + KEY_PRE + "; " + supported));
        PreTokenizer preTokenizer = PreTokenizer.forGgufName(pre).orElseThrow(() -> new GgufException(md.source(),
                KEY_PRE + " is \"" + pre + "\", which is not supported; " + supported));
        String[] tokens = md.getStringArray(KEY_TOKENS).toArray(new String[0]);
        int[] types;
        if (md.has(KEY_TOKEN_TYPE)) {
            types = md.getIntArray(KEY_TOKEN_TYPE);
        } else {
            types = new int[tokens.length];
            Arrays.fill(types, TokenType.NORMAL.id());
        }
        List<String> merges = md.getStringArray(KEY_MERGES);
        try {
            return new Vocabulary(tokens, types, merges, md.getInt(KEY_BOS_ID, NO_TOKEN), md.getInt(KEY_EOS_ID, NO_TOKEN),
                    md.getInt(KEY_PAD_ID, NO_TOKEN), md.getBool(KEY_ADD_BOS, preTokenizer.addBosByDefault()), pre);
        } catch (IllegalArgumentException e) {
            throw new GgufException(md.source(), e.getMessage(), e);
        }
    }

    /**
     * Writes the keys {@link #fromMetadata} reads, so that a model generator can put this
     * vocabulary into a GGUF file. Absent special ids are not written.
     */
    public void writeTo(BiConsumer<String, GgufValue> put) {
        put.accept(KEY_MODEL, GgufValue.ofString(MODEL_GPT2));
        put.accept(KEY_PRE, GgufValue.ofString(preTokenizerName));
        put.accept(KEY_TOKENS, GgufValue.ofStrings(Arrays.asList(tokens)));
        List<Integer> types = new ArrayList<>(tokenTypes.length);
        for (int t : tokenTypes) {
            types.add(t);
        }
        put.accept(KEY_TOKEN_TYPE, GgufValue.ofInt32s(types));
        put.accept(KEY_MERGES, GgufValue.ofStrings(merges));
        if (bosId != NO_TOKEN) {
            put.accept(KEY_BOS_ID, GgufValue.ofUInt32(bosId));
        }
        if (eosId != NO_TOKEN) {
            put.accept(KEY_EOS_ID, GgufValue.ofUInt32(eosId));
        }
        if (padId != NO_TOKEN) {
            put.accept(KEY_PAD_ID, GgufValue.ofUInt32(padId));
        }
        put.accept(KEY_ADD_BOS, GgufValue.ofBool(addBos));
    }

    /** A copy with other special ids ({@link #NO_TOKEN} for none). */
    public Vocabulary withSpecialIds(int newBosId, int newEosId, int newPadId) {
        return new Vocabulary(tokens, tokenTypes, merges, newBosId, newEosId, newPadId, addBos, preTokenizerName);
    }

    /** A copy with another add-BOS choice. */
    public Vocabulary withAddBos(boolean newAddBos) {
        return new Vocabulary(tokens, tokenTypes, merges, bosId, eosId, padId, newAddBos, preTokenizerName);
    }

    public int size() {
        return tokens.length;
    }

    /** The stored text of token {@code id}. */
    public String token(int id) {
        return tokens[id];
    }

    /** All token texts by id (unmodifiable view). */
    public List<String> tokens() {
        return Collections.unmodifiableList(Arrays.asList(tokens));
    }

    public TokenType tokenType(int id) {
        return TokenType.fromId(tokenTypes[id]);
    }

    /** The stored type ids, a copy. */
    public int[] tokenTypes() {
        return tokenTypes.clone();
    }

    /** Merge rules, rank order. */
    public List<String> merges() {
        return merges;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public boolean addBos() {
        return addBos;
    }

    /** The {@code tokenizer.ggml.pre} value as given (an alias stays an alias). */
    public String preTokenizerName() {
        return preTokenizerName;
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    private void validate() {
        if (tokens.length == 0) {
            throw new IllegalArgumentException(KEY_TOKENS + " is empty");
        }
        if (tokenTypes.length != tokens.length) {
            throw new IllegalArgumentException(KEY_TOKEN_TYPE + " has " + tokenTypes.length + " entries but "
                    + KEY_TOKENS + " has " + tokens.length + "; they must have one entry per token");
        }
        Map<String, Integer> seen = new HashMap<>(tokens.length * 2);
        for (int id = 0; id < tokens.length; id++) {
            String t = tokens[id];
            if (t == null || t.isEmpty()) {
                throw new IllegalArgumentException(KEY_TOKENS + " entry " + id + " is empty");
            }
            Integer earlier = seen.put(t, id);
            if (earlier != null) {
                throw new IllegalArgumentException(KEY_TOKENS + " entries " + earlier + " and " + id
                        + " are both \"" + t + "\"; token texts must be distinct");
            }
            if (TokenType.fromId(tokenTypes[id]) == null) {
                throw new IllegalArgumentException(KEY_TOKEN_TYPE + " entry " + id + " is " + tokenTypes[id]
                        + "; valid types are 1 (NORMAL) to 6 (BYTE)");
            }
        }
        for (int rank = 0; rank < merges.size(); rank++) {
            String m = merges.get(rank);
            int space = m.indexOf(' ', 1);
            if (space < 0 || space == m.length() - 1) {
                throw new IllegalArgumentException(KEY_MERGES + " entry " + rank + " \"" + m
                        + "\" is not two parts separated by a space");
            }
        }
        checkId(KEY_BOS_ID, bosId);
        checkId(KEY_EOS_ID, eosId);
        checkId(KEY_PAD_ID, padId);
    }

    private void checkId(String key, int id) {
        if (id != NO_TOKEN && (id < 0 || id >= tokens.length)) {
            throw new IllegalArgumentException(key + " = " + id + " is out of range: the vocabulary has "
                    + tokens.length + " tokens (ids 0.." + (tokens.length - 1) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && bosId == v.bosId && eosId == v.eosId && padId == v.padId
                && addBos == v.addBos && preTokenizerName.equals(v.preTokenizerName)
                && Arrays.equals(tokens, v.tokens) && Arrays.equals(tokenTypes, v.tokenTypes) && merges.equals(v.merges);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(tokens), Arrays.hashCode(tokenTypes), merges, bosId, eosId, padId, addBos,
                preTokenizerName);
    }

    @Override
    public String toString() {
        return "Vocabulary[" + tokens.length + " tokens, " + merges.size() + " merges, pre=" + preTokenizerName
                + ", bos=" + bosId + ", eos=" + eosId + ", pad=" + padId + ", addBos=" + addBos + "]";
    }
}
