package dev.pflash.runtime.backend.cuda;

import jcuda.driver.CUresult;

/**
 * The device has too little free memory for an allocation. The message says how much was
 * needed, what it was for, what the device and this backend hold, and what to lower.
 */
public final class DeviceOutOfMemoryException extends CudaException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;

    DeviceOutOfMemoryException(String message, long requestedBytes) {
        super(message, CUresult.CUDA_ERROR_OUT_OF_MEMORY);
        this.requestedBytes = requestedBytes;
    }

    /** Bytes the failed allocation asked for. */
    public long requestedBytes() {
        return requestedBytes;
    }
}
