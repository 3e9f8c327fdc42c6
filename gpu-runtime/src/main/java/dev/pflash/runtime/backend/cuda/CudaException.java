package dev.pflash.runtime.backend.cuda;

/** A CUDA driver call failed; the message names the call and the driver's error. */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int result;

    public CudaException(String message, int result) {
        super(message);
        this.result = result;
    }

    /** The driver's CUresult code. */
    public int result() {
        return result;
    }
}
