package dev.pflash.runtime.backend.cuda;

/**
 * Launch configuration of the flash attention kernels (flash.cuh, FlashLayout): 64 queries and a
 * tile of 32 keys per step, 4 warps of 16 queries. Queries, output and softmax state stay in
 * registers; shared memory holds only the key tile (rows padded by 8 halves) and the value tile
 * (transposed, rows of the tile's keys padded by 8). Kept equal to the CUDA side's sum.
 */
final class FlashAttentionLayout {
    static final int QUERIES_PER_BLOCK = 64;
    static final int KEYS_PER_TILE = 32;
    static final int WARPS = 4;

    private FlashAttentionLayout() {
    }

    static int sharedBytes(int headDim) {
        int keys = KEYS_PER_TILE * (headDim + 8) * 2;
        int values = headDim * (KEYS_PER_TILE + 8) * 2;
        return keys + values;
    }
}
