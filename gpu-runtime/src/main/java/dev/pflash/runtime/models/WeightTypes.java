package dev.pflash.runtime.models;

import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.LlamaFileType;

/**
 * The tensor type of each 2-D weight of a synthetic model: one type for all, or llama.cpp's
 * Q4_K_M recipe (GGUF-QWEN3.md section 2: output and tied embedding Q6_K; attn_v and ffn_down
 * Q6_K on the layers {@code useMoreBits} picks; everything else Q4_K).
 */
record WeightTypes(GgmlType base, boolean q4kmRecipe) {

    static WeightTypes parse(String spec, String name) {
        if (name.equals("Q4_K_M")) {
            return new WeightTypes(GgmlType.Q4_K, true);
        }
        try {
            return new WeightTypes(GgmlType.valueOf(name), false);
        } catch (IllegalArgumentException e) {
            throw new GgufException(spec, "unknown weight type '" + name + "'; supported: " + GgmlType.supportedList()
                    + ", Q4_K_M");
        }
    }

    /**
     * The label llama.cpp writes for a file of these types, or null where it has none (a file of
     * Q4_K or Q5_K alone is no llama.cpp recipe).
     */
    LlamaFileType fileType() {
        if (q4kmRecipe) {
            return LlamaFileType.Q4_K_M;
        }
        return switch (base) {
            case F32 -> LlamaFileType.F32;
            case F16 -> LlamaFileType.F16;
            case BF16 -> LlamaFileType.BF16;
            case Q8_0 -> LlamaFileType.Q8_0;
            case Q4_0 -> LlamaFileType.Q4_0;
            case Q6_K -> LlamaFileType.Q6_K;
            case Q4_K, Q5_K -> null;
        };
    }

    GgmlType attention() {
        return base;
    }

    GgmlType output() {
        return q4kmRecipe ? GgmlType.Q6_K : base;
    }

    GgmlType embedding(boolean tied) {
        return q4kmRecipe && tied ? GgmlType.Q6_K : base;
    }

    /** The fused q/k/v projection of a DeltaNet layer: llama.cpp's Q4_K_M gives attn_qkv Q5_K. */
    GgmlType fusedQkv() {
        return q4kmRecipe ? GgmlType.Q5_K : base;
    }

    /** The per-head decay and beta projections of a DeltaNet layer (a few rows): Q8_0 in the recipe, a guess. */
    GgmlType gateProjection() {
        return q4kmRecipe ? GgmlType.Q8_0 : base;
    }

    GgmlType upgraded(int layer, int layers) {
        return q4kmRecipe && useMoreBits(layer, layers) ? GgmlType.Q6_K : base;
    }

    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }
}
