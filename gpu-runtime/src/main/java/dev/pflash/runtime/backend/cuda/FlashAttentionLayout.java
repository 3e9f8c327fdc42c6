package dev.pflash.runtime.backend.cuda;

/**
 * Shared memory of the flash attention kernels (flash.cuh, FlashLayout): 64 queries and a
 * tile of 32 keys per step, 4 warps of 16 queries. The f16 query staging and the f32 output rows
 * share their bytes (the queries move to registers first). Kept equal to the CUDA side's sum.
 */
final class FlashAttentionLayout {
    static final int QUERIES_PER_BLOCK = 64;
    static final int KEYS_PER_TILE = 32;
    static final int WARPS = 4;

    private FlashAttentionLayout() {
    }

    static int sharedBytes(int headDim) {
        int qPitch = headDim + 8;
        int oPitch = headDim + 4;
        int q = QUERIES_PER_BLOCK * qPitch * 2;
        int k = KEYS_PER_TILE * qPitch * 2;
        int s = WARPS * 16 * (KEYS_PER_TILE + 4) * 4;
        int p = WARPS * 16 * (KEYS_PER_TILE + 8) * 2;
        int o = WARPS * 16 * oPitch * 4;
        int l = WARPS * 16 * 4;
        return Math.max(q, o) + 2 * k + s + p + l;
    }
}
