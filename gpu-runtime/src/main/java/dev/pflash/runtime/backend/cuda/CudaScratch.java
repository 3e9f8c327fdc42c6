package dev.pflash.runtime.backend.cuda;

import java.nio.ByteOrder;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * The backend's scratch arena: one growable device region per purpose, reused by every op that
 * needs it. A region only grows (to the largest request seen, in whole MiB); growing waits for queued ops,
 * which may still read the old region. Small host arrays (token ids, positions, mask lists) go to
 * their region through a pinned host buffer of the same purpose with a copy queued on the stream,
 * so the host does not wait for the device in the middle of a forward pass. Callers hold the
 * backend's lock.
 */
final class CudaScratch {
    /** Purposes of scratch regions. */
    enum Region {
        /** f32 staging of an f16 buffer's elements on their way from or to the host. */
        CONVERT,
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
        MASK_LIST,
        /** Per head and chunk products of the delta rule's chunked form, one slab of chunks at a time. */
        DELTA_CHUNKS
    }

    private static final long MIB = 1L << 20;

    private final CudaContext context;
    private final CudaMemory memory;
    private final Map<Region, CUdeviceptr> regions = new EnumMap<>(Region.class);
    private final Map<Region, Long> capacity = new EnumMap<>(Region.class);
    private final Map<Region, Pointer> pinned = new EnumMap<>(Region.class);
    private final Map<Region, Long> pinnedCapacity = new EnumMap<>(Region.class);
    private final Map<Region, CUevent> lastCopy = new EnumMap<>(Region.class);

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

    /**
     * Region {@code r} holding {@code values} once the ops queued so far are done with it: the
     * values are copied into r's pinned host buffer (after waiting only for r's previous copy out
     * of it, long done in practice) and from there by a copy queued on the stream.
     */
    CUdeviceptr upload(Region r, int[] values) {
        long bytes = (long) Math.max(1, values.length) * Integer.BYTES;
        CUdeviceptr device = get(r, bytes);
        Pointer host = pinned(r, bytes);
        host.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asIntBuffer().put(values);
        CudaCalls.check(JCudaDriver.cuMemcpyHtoDAsync(device, host, (long) values.length * Integer.BYTES,
                context.stream()), "cuMemcpyHtoDAsync(" + r + ")");
        CudaCalls.check(JCudaDriver.cuEventRecord(lastCopy.get(r), context.stream()), "cuEventRecord(" + r + ")");
        return device;
    }

    /** r's pinned host buffer with room for {@code bytes}, free to overwrite. */
    private Pointer pinned(Region r, long bytes) {
        CUevent copy = lastCopy.get(r);
        if (copy != null) {
            CudaCalls.check(JCudaDriver.cuEventSynchronize(copy), "cuEventSynchronize(" + r + ")");
        } else {
            copy = new CUevent();
            CudaCalls.check(JCudaDriver.cuEventCreate(copy, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            lastCopy.put(r, copy);
        }
        long have = pinnedCapacity.getOrDefault(r, 0L);
        if (have >= bytes) {
            return pinned.get(r);
        }
        Pointer old = pinned.remove(r);
        if (old != null) {
            JCudaDriver.cuMemFreeHost(old);
        }
        long grown = Math.max(4096, Long.highestOneBit(bytes - 1) << 1);
        Pointer p = new Pointer();
        CudaCalls.check(JCudaDriver.cuMemAllocHost(p, grown), "cuMemAllocHost(" + grown + " bytes for " + r + ")");
        pinned.put(r, p);
        pinnedCapacity.put(r, grown);
        return p;
    }

    /** Frees every region and pinned buffer; the queued ops must be done. */
    void release() {
        regions.forEach((r, p) -> memory.free(p, capacity.get(r), CudaMemory.Use.SCRATCH));
        regions.clear();
        capacity.clear();
        pinned.values().forEach(JCudaDriver::cuMemFreeHost);
        pinned.clear();
        pinnedCapacity.clear();
        lastCopy.values().forEach(JCudaDriver::cuEventDestroy);
        lastCopy.clear();
    }
}
