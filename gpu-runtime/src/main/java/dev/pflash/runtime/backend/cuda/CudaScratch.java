package dev.pflash.runtime.backend.cuda;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import jcuda.driver.CUdeviceptr;

/**
 * The backend's scratch arena: one growable device region per purpose, reused by every op that
 * needs it. A region only grows (to the largest request seen, in whole MiB); growing waits for queued ops,
 * which may still read the old region. Callers hold the backend's lock.
 */
final class CudaScratch {
    /** Purposes of scratch regions. */
    enum Region {
        /** Weights dequantized to f16 for the tensor-core matrix multiply (a slice of rows at a time). */
        WEIGHT_F16,
        /** Activations converted to f16 for the matrix multiply. */
        ACTIVATION_F16,
        /** Per-split partial results of decode attention. */
        ATTENTION_PARTIAL,
        /** Token ids of an embedding lookup. */
        TOKENS,
        /** Token positions of a RoPE call. */
        POSITIONS,
        /** Softmax statistics (max, 1 / sum) of each tail query and head in PFlash scoring. */
        TAIL_STATS,
        /** Selected key blocks of a block mask, as bits, read back to build the mask. */
        MASK_BITS,
        /** Row offsets of a block mask's key block lists on the device. */
        MASK_OFFSETS,
        /** A block mask's key block lists on the device. */
        MASK_LIST
    }

    private static final long MIB = 1L << 20;

    private final CudaContext context;
    private final CudaMemory memory;
    private final Map<Region, CUdeviceptr> regions = new EnumMap<>(Region.class);
    private final Map<Region, Long> capacity = new EnumMap<>(Region.class);

    CudaScratch(CudaContext context, CudaMemory memory) {
        this.context = context;
        this.memory = memory;
    }

    /** Region {@code r} with room for at least {@code bytes} bytes. */
    CUdeviceptr get(Region r, long bytes) {
        long have = capacity.getOrDefault(r, 0L);
        if (have >= bytes) {
            return regions.get(r);
        }
        CUdeviceptr old = regions.remove(r);
        if (old != null) {
            context.synchronize();
            memory.free(old, have, CudaMemory.Use.SCRATCH);
        }
        long grown = (bytes + MIB - 1) / MIB * MIB;
        capacity.put(r, 0L);
        CUdeviceptr p = memory.allocate(grown, CudaMemory.Use.SCRATCH, "scratch " + r.name().toLowerCase(Locale.ROOT));
        regions.put(r, p);
        capacity.put(r, grown);
        return p;
    }

    /** Frees every region. */
    void release() {
        regions.forEach((r, p) -> memory.free(p, capacity.get(r), CudaMemory.Use.SCRATCH));
        regions.clear();
        capacity.clear();
    }
}
