package dev.pflash.runtime.gguf;

/**
 * llama.cpp's whole-file quantization label ({@code llama_ftype}), stored as
 * {@code general.file_type}: the recipe a file was quantized with, such as Q4_K_M, where the
 * tensors themselves mix several types. Ids: GGUF-QWEN3.md section 1.
 */
public enum LlamaFileType {
    F32(0),
    F16(1),
    Q4_0(2),
    Q4_1(3),
    Q8_0(7),
    Q5_0(8),
    Q5_1(9),
    Q2_K(10),
    Q3_K_S(11),
    Q3_K_M(12),
    Q3_K_L(13),
    Q4_K_S(14),
    Q4_K_M(15),
    Q5_K_S(16),
    Q5_K_M(17),
    Q6_K(18),
    BF16(32);

    /** The metadata key that holds the id. */
    public static final String KEY = "general.file_type";

    private final int id;

    LlamaFileType(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** The label with this id, or null for an id this list does not know. */
    public static LlamaFileType fromId(int id) {
        for (LlamaFileType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
