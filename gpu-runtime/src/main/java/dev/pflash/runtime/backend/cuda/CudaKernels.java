package dev.pflash.runtime.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Every kernel of the PTX modules, loaded into the current context. Kernels that need more than
 * the default 48 KiB of dynamic shared memory are opted in here; where the device cannot give it
 * (flash attention on a card with little shared memory), the kernel is left out and the
 * backend takes its portable path.
 */
final class CudaKernels implements AutoCloseable {
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CudaFunction> functions = new HashMap<>();

    CudaKernels(CudaDeviceInfo device) {
        for (String name : PtxModules.NAMES) {
            CUmodule module = new CUmodule();
            int r = JCudaDriver.cuModuleLoadData(module, PtxModules.image(name));
            if (r == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION || r == CUresult.CUDA_ERROR_INVALID_PTX) {
                close();
                throw new CudaException("the driver (CUDA " + CudaDeviceInfo.cudaVersionText(device.driverVersion())
                        + ") cannot load PTX module " + name + ": " + CudaCalls.errorName(r) + "; the kernels need "
                        + PtxModules.describe(PtxModules.requirement()) + ". Update the driver, or rebuild the PTX "
                        + "with your CUDA version's nvcc and point -D" + PtxModules.DIR_PROPERTY + " at it "
                        + "(README, CUDA backend)", r);
            }
            if (r != CUresult.CUDA_SUCCESS) {
                close();
                CudaCalls.check(r, "cuModuleLoadData(" + name + ".ptx)");
            }
            modules.add(module);
            for (String kernel : kernelNames(name)) {
                CUfunction f = new CUfunction();
                CudaCalls.check(JCudaDriver.cuModuleGetFunction(f, module, kernel), "cuModuleGetFunction(" + kernel + ")");
                int shared = sharedBytes(kernel);
                if (shared > device.sharedMemoryOptin()) {
                    continue;
                }
                if (shared > 48 * 1024) {
                    CudaCalls.check(JCudaDriver.cuFuncSetAttribute(f,
                            CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared),
                            "cuFuncSetAttribute(" + kernel + ", " + shared + " bytes of shared memory)");
                }
                functions.put(kernel, new CudaFunction(kernel, f, shared));
            }
        }
    }

    /** The kernel of this name. */
    CudaFunction get(String kernel) {
        CudaFunction f = functions.get(kernel);
        if (f == null) {
            throw new IllegalStateException("kernel " + kernel + " is not loaded");
        }
        return f;
    }

    /** Whether the kernel loaded (a kernel whose shared memory the device lacks did not). */
    boolean has(String kernel) {
        return functions.containsKey(kernel);
    }

    static List<String> kernelNames(String module) {
        return switch (module) {
            case "dequant" -> List.of("embed_rows", "f32_to_f16", "f16_to_f32");
            case "matmul" -> List.of("gemm_q", "matvec_q");
            case "norm_rope" -> List.of("rms_norm", "add_bias", "add_inplace", "swiglu", "rope");
            case "attention" -> List.of("flash_attention_d64", "flash_attention_d128", "attention_split",
                    "attention_split_d128", "attention_combine");
            case "pflash" -> List.of("block_mean_keys", "block_scores_d64", "block_scores_d128", "block_scores_any",
                    "select_blocks", "sparse_flash_attention_d64", "sparse_flash_attention_d128", "sparse_attention_rows",
                    "tail_logits", "tail_softmax_stats", "tail_probability_max", "average_pool", "chunk_means");
            case "deltanet" -> List.of("split_rows", "sigmoid_mul", "causal_conv_silu", "conv_state_update",
                    "delta_net_gates", "rms_norm_gated", "delta_net", "delta_net_chunk_prepare",
                    "delta_net_chunk_state");
            default -> throw new IllegalArgumentException("unknown PTX module " + module);
        };
    }

    /**
     * Threads per block a kernel is launched with (the most, where it varies: attention_combine),
     * from the constants the launches use.
     */
    static int blockThreads(String kernel) {
        return switch (kernel) {
            case "gemm_q" -> CudaBackend.GEMM_THREADS;
            case "matvec_q" -> CudaBackend.MATVEC_WARPS * 32;
            case "flash_attention_d64", "flash_attention_d128", "sparse_flash_attention_d64",
                    "sparse_flash_attention_d128" -> FlashAttentionLayout.WARPS * 32;
            case "attention_split", "attention_split_d128", "sparse_attention_rows", "block_mean_keys",
                    "select_blocks" -> CudaBackend.ROW_THREADS;
            default -> CudaBackend.BLOCK;
        };
    }

    /** Dynamic shared memory a kernel is launched with. */
    static int sharedBytes(String kernel) {
        return switch (kernel) {
            case "gemm_q" -> CudaBackend.GEMM_SHARED_BYTES;
            case "flash_attention_d64", "sparse_flash_attention_d64" -> FlashAttentionLayout.sharedBytes(64);
            case "flash_attention_d128", "sparse_flash_attention_d128" -> FlashAttentionLayout.sharedBytes(128);
            default -> 0;
        };
    }

    @Override
    public void close() {
        for (CUmodule m : modules) {
            JCudaDriver.cuModuleUnload(m);
        }
        modules.clear();
        functions.clear();
    }
}
