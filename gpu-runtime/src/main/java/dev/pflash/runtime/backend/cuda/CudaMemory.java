package dev.pflash.runtime.backend.cuda;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Device memory of one backend, accounted by purpose. Freed blocks of up to
 * {@link #POOL_LIMIT_BYTES} in total are kept for reuse by size, because a forward call
 * allocates the same activation buffers again at every decode step and cuMemFree waits for the
 * device. Reuse is safe without waiting: every op runs on the backend's one stream, in order.
 * When an allocation fails, the pool is released and the allocation tried once more; then a
 * {@link DeviceOutOfMemoryException} says what to lower. Callers hold the backend's lock.
 */
final class CudaMemory {
    /** What device memory holds. */
    enum Use {
        WEIGHTS("weights"), BUFFERS("buffers (activations, KV cache)"), SCRATCH("scratch");

        final String label;

        Use(String label) {
            this.label = label;
        }
    }

    static final long POOL_LIMIT_BYTES = 512L << 20;

    private final CudaDeviceInfo device;
    private final Map<Use, Long> held = new EnumMap<>(Use.class);
    private final Map<Long, ArrayDeque<CUdeviceptr>> pool = new HashMap<>();
    private long pooledBytes;

    CudaMemory(CudaDeviceInfo device) {
        this.device = device;
        for (Use u : Use.values()) {
            held.put(u, 0L);
        }
    }

    /** {@code bytes} (> 0) of device memory for {@code what}; contents undefined. */
    CUdeviceptr allocate(long bytes, Use use, String what) {
        ArrayDeque<CUdeviceptr> free = pool.get(bytes);
        CUdeviceptr p;
        if (free != null && !free.isEmpty()) {
            p = free.pop();
            pooledBytes -= bytes;
        } else {
            p = new CUdeviceptr();
            int r = JCudaDriver.cuMemAlloc(p, bytes);
            if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                releasePool();
                r = JCudaDriver.cuMemAlloc(p, bytes);
            }
            if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                throw outOfMemory(bytes, what);
            }
            CudaCalls.check(r, "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        }
        held.merge(use, bytes, Long::sum);
        return p;
    }

    /** Returns memory from {@link #allocate}; small enough blocks go to the pool. */
    void free(CUdeviceptr p, long bytes, Use use) {
        held.merge(use, -bytes, Long::sum);
        if (use != Use.WEIGHTS && pooledBytes + bytes <= POOL_LIMIT_BYTES) {
            pool.computeIfAbsent(bytes, b -> new ArrayDeque<>()).push(p);
            pooledBytes += bytes;
        } else {
            CudaCalls.check(JCudaDriver.cuMemFree(p), "cuMemFree");
        }
    }

    /** Frees every pooled block. */
    void releasePool() {
        for (ArrayDeque<CUdeviceptr> blocks : pool.values()) {
            for (CUdeviceptr p : blocks) {
                JCudaDriver.cuMemFree(p);
            }
        }
        pool.clear();
        pooledBytes = 0;
    }

    long held(Use use) {
        return held.get(use);
    }

    private DeviceOutOfMemoryException outOfMemory(long bytes, String what) {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        StringBuilder holds = new StringBuilder();
        for (Use u : Use.values()) {
            holds.append(holds.length() == 0 ? "" : ", ").append(u.label).append(' ').append(gib(held.get(u)));
        }
        return new DeviceOutOfMemoryException(String.format(Locale.ROOT,
                "CUDA device %s is out of memory: %s needed for %s, %s free of %s (this backend holds %s). "
                        + "Lower what lives on the device: the prompt or context length (the KV cache grows with "
                        + "it), the prefix cache budget, the model size or its quantization (Q4_K_M instead of Q8_0), "
                        + "or run on the CPU with --backend=cpu",
                device.name(), gib(bytes), what, gib(free[0]), gib(total[0]), holds), bytes);
    }

    static String gib(long bytes) {
        return bytes >= (1L << 30)
                ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}
