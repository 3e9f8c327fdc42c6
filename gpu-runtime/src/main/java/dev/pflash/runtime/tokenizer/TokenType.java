package dev.pflash.runtime.tokenizer;

/**
 * The kind of a vocabulary entry, with the ids GGUF stores in {@code tokenizer.ggml.token_type}.
 * The kind decides how a token takes part in encoding (only CONTROL, USER_DEFINED and UNKNOWN
 * tokens are matched as whole strings before BPE) and in decoding (CONTROL and UNKNOWN text is
 * shown only on request, UNUSED never).
 */
public enum TokenType {
    NORMAL(1),
    UNKNOWN(2),
    CONTROL(3),
    USER_DEFINED(4),
    UNUSED(5),
    BYTE(6);

    private final int id;

    TokenType(int id) {
        this.id = id;
    }

    /** The value GGUF stores for this type. */
    public int id() {
        return id;
    }

    /** True for the types matched verbatim in the text before BPE runs. */
    public boolean isSpecial() {
        return this == CONTROL || this == USER_DEFINED || this == UNKNOWN;
    }

    /** The type stored as {@code id}, or null when no type has that id. */
    public static TokenType fromId(int id) {
        for (TokenType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
