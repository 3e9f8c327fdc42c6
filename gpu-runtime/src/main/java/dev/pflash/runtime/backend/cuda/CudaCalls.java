package dev.pflash.runtime.backend.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/** Result checking for JCuda driver calls, which return CUresult codes (exceptions are off). */
final class CudaCalls {
    private CudaCalls() {
    }

    /** @throws CudaException naming {@code call} and the error unless {@code result} is CUDA_SUCCESS */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + errorName(result), result);
        }
    }

    /** "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" for a result code. */
    static String errorName(int result) {
        String[] name = new String[1];
        String[] text = new String[1];
        if (JCudaDriver.cuGetErrorName(result, name) == CUresult.CUDA_SUCCESS
                && JCudaDriver.cuGetErrorString(result, text) == CUresult.CUDA_SUCCESS) {
            return name[0] + " (" + text[0] + ")";
        }
        return CUresult.stringFor(result);
    }

    static int attribute(CUdevice dev, int attribute) {
        int[] value = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(value, attribute, dev), "cuDeviceGetAttribute(" + attribute + ")");
        return value[0];
    }

    /** The attribute, or 0 where this driver no longer reports it. */
    static int attributeOrZero(CUdevice dev, int attribute) {
        int[] value = new int[1];
        return JCudaDriver.cuDeviceGetAttribute(value, attribute, dev) == CUresult.CUDA_SUCCESS ? value[0] : 0;
    }
}
