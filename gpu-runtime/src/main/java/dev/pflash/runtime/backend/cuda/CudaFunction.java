package dev.pflash.runtime.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * One kernel of a loaded PTX module and its launch: arguments are device pointers, Integer,
 * Long, Float or Double values, matched in order to the kernel's C parameters (int, long long,
 * float, double, pointers).
 */
final class CudaFunction {
    private final String name;
    private final CUfunction function;
    private final int dynamicSharedBytes;

    CudaFunction(String name, CUfunction function, int dynamicSharedBytes) {
        this.name = name;
        this.function = function;
        this.dynamicSharedBytes = dynamicSharedBytes;
    }

    String name() {
        return name;
    }

    /** Dynamic shared memory each block of this kernel is launched with. */
    int dynamicSharedBytes() {
        return dynamicSharedBytes;
    }

    void launch(CUstream stream, int gridX, int gridY, int block, Object... args) {
        launchWithZ(stream, gridX, gridY, 1, block, args);
    }

    /** A launch on a grid of gridX x gridY x gridZ blocks. */
    void launchWithZ(CUstream stream, int gridX, int gridY, int gridZ, int block, Object... args) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0) {
            return;
        }
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = param(args[i]);
        }
        CudaCalls.check(JCudaDriver.cuLaunchKernel(function, gridX, gridY, gridZ, block, 1, 1, dynamicSharedBytes, stream,
                Pointer.to(params), null), "launch of kernel " + name);
    }

    private Pointer param(Object arg) {
        if (arg instanceof CUdeviceptr p) {
            return Pointer.to(p);
        }
        if (arg instanceof Integer v) {
            return Pointer.to(new int[] {v});
        }
        if (arg instanceof Long v) {
            return Pointer.to(new long[] {v});
        }
        if (arg instanceof Float v) {
            return Pointer.to(new float[] {v});
        }
        if (arg instanceof Double v) {
            return Pointer.to(new double[] {v});
        }
        throw new IllegalArgumentException("kernel " + name + ": unsupported argument type " + arg.getClass().getName());
    }
}
