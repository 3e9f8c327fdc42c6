package dev.pflash.runtime.backend.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * Device time of queued work, measured with CUDA events on the backend's stream: what the GPU
 * spent, without the host's launch overhead or waits.
 */
public final class CudaEventTimer {
    private final CudaBackend backend;

    public CudaEventTimer(CudaBackend backend) {
        this.backend = backend;
    }

    /** Milliseconds of device time taken by the ops {@code work} queues, from first to last. */
    public float millis(Runnable work) {
        CUevent start = new CUevent();
        CUevent end = new CUevent();
        synchronized (backend) {
            backend.current();
            CudaCalls.check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
            CudaCalls.check(JCudaDriver.cuEventCreate(end, 0), "cuEventCreate");
            try {
                CudaCalls.check(JCudaDriver.cuEventRecord(start, backend.stream()), "cuEventRecord");
                work.run();
                backend.current();
                CudaCalls.check(JCudaDriver.cuEventRecord(end, backend.stream()), "cuEventRecord");
                CudaCalls.check(JCudaDriver.cuEventSynchronize(end), "cuEventSynchronize");
                float[] ms = new float[1];
                CudaCalls.check(JCudaDriver.cuEventElapsedTime(ms, start, end), "cuEventElapsedTime");
                return ms[0];
            } finally {
                JCudaDriver.cuEventDestroy(start);
                JCudaDriver.cuEventDestroy(end);
            }
        }
    }
}
