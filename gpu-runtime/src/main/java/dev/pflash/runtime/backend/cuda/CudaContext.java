package dev.pflash.runtime.backend.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * A device's primary context and the one stream every op of a backend is queued on, so that ops
 * run in call order without host synchronization; the host waits only where it reads results
 * or writes host memory into device memory. Contexts are per thread in CUDA: each op makes this
 * one current on the calling thread first.
 */
final class CudaContext implements AutoCloseable {
    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final CudaDeviceInfo info;
    private boolean closed;

    private CudaContext(CUdevice device, CUcontext context, CUstream stream, CudaDeviceInfo info) {
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.info = info;
    }

    static CudaContext open(int ordinal) {
        CudaCalls.check(JCudaDriver.cuInit(0), "cuInit");
        CUdevice device = new CUdevice();
        CudaCalls.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CudaDeviceInfo info = CudaProbe.describe(ordinal);
        CUcontext context = new CUcontext();
        CudaCalls.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        try {
            CudaCalls.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            CUstream stream = new CUstream();
            CudaCalls.check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
            return new CudaContext(device, context, stream, info);
        } catch (RuntimeException e) {
            // The retained primary context would otherwise stay alive, holding device memory, until the JVM exits.
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    CudaDeviceInfo info() {
        return info;
    }

    CUstream stream() {
        return stream;
    }

    /** Makes the context current on the calling thread. */
    void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend on " + info.name() + " is closed");
        }
        CudaCalls.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for every op queued so far; reports an error of any of them. */
    void synchronize() {
        CudaCalls.check(JCudaDriver.cuStreamSynchronize(stream), "a CUDA kernel or copy (cuStreamSynchronize)");
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        makeCurrent();
        closed = true;
        JCudaDriver.cuStreamSynchronize(stream);
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
