package dev.pflash.runtime.backend.cuda;

import static dev.pflash.runtime.backend.cuda.CudaBackend.ceilDiv;
import static dev.pflash.runtime.backend.cuda.CudaBackend.grid;
import static dev.pflash.runtime.backend.cuda.CudaBackend.requireSize;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeltaNetShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.cuda.CudaScratch.Region;
import jcuda.driver.CUdeviceptr;

/**
 * The ops of the qwen35 hybrid layers on the CUDA backend (kernels of deltanet.cu), on the
 * backend's buffers and stream; {@link CudaBackend} delegates its hybrid {@link Backend} ops here.
 * The delta rule has two forms, like the CPU's: decode and short calls run token by token (one warp
 * per column of a value head's state, the column in registers for the whole call); longer prefill
 * calls run in the chunked WY form, in slabs of {@link #SLAB_CHUNKS} chunks: one kernel turns every
 * chunk of every head into its state-free products (a triangular solve in shared memory) in the
 * {@link Region#DELTA_CHUNKS} scratch region, then one walks each head's chunks in order on tiles of
 * the state. Both equal the recurrence within float rounding. Holds nothing of its own.
 */
final class CudaHybridOps {
    private static final int BLOCK = 256;
    /** Warps per block of the row and delta-rule kernels (HYBRID_WARPS in deltanet.cu). */
    private static final int WARPS = 4;
    /** Largest key head dim of the delta rule (32 * DELTA_ROWS in deltanet.cu). */
    static final int MAX_KEY_DIM = 256;
    /** Tokens per chunk of the WY form (DELTA_CHUNK in deltanet.cu). */
    private static final int CHUNK = 64;
    /** Value columns of the state per block of delta_net_chunk_state (DELTA_TILE in deltanet.cu). */
    private static final int TILE = 16;
    /**
     * Calls of at least this many tokens take the chunked form: below it the serial steps of the
     * recurrence are few and its single pass over the state is cheaper than a chunk's products.
     */
    static final int CHUNKED_MIN_TOKENS = 16;
    /** Chunks per slab, which bounds the scratch (a record of 64 x (3 dk + dv + 64) floats per head and chunk). */
    static final int SLAB_CHUNKS = 16;

    private final CudaBackend backend;

    CudaHybridOps(CudaBackend backend) {
        this.backend = backend;
    }

    void split(DeviceBuffer packed, int rows, int first, int second, DeviceBuffer a, DeviceBuffer b) {
        synchronized (backend) {
            CudaBuffer p = backend.cuda(packed);
            CudaBuffer ab = backend.cuda(a);
            CudaBuffer bb = backend.cuda(b);
            requireSize("split input", p, (long) rows * (first + second));
            requireSize("split first output", ab, (long) rows * first);
            requireSize("split second output", bb, (long) rows * second);
            backend.current();
            function("split_rows").launch(backend.stream(), grid((long) rows * (first + second)), 1, BLOCK, p.pointer(),
                    rows, first, second, ab.pointer(), bb.pointer());
        }
    }

    void sigmoidMul(DeviceBuffer x, DeviceBuffer gate, int n) {
        synchronized (backend) {
            CudaBuffer xb = backend.cuda(x);
            CudaBuffer gb = backend.cuda(gate);
            requireSize("sigmoidMul target", xb, n);
            requireSize("sigmoidMul gate", gb, n);
            backend.current();
            function("sigmoid_mul").launch(backend.stream(), grid(n), 1, BLOCK, xb.pointer(), gb.pointer(), n);
        }
    }

    void causalConvSilu(DeviceBuffer x, int tokens, int channels, DeviceBuffer weight, int kernel, DeviceBuffer state,
            DeviceBuffer out) {
        synchronized (backend) {
            if (kernel < 1) {
                throw new IllegalArgumentException("convolution kernel must be >= 1, got " + kernel);
            }
            CudaBuffer xb = backend.cuda(x);
            CudaBuffer wb = backend.cuda(weight);
            CudaBuffer sb = backend.cuda(state);
            CudaBuffer ob = backend.cuda(out);
            requireSize("convolution input", xb, (long) tokens * channels);
            requireSize("convolution weight", wb, (long) channels * kernel);
            requireSize("convolution state", sb, (long) (kernel - 1) * channels);
            requireSize("convolution output", ob, (long) tokens * channels);
            if (tokens == 0) {
                return;
            }
            backend.current();
            function("causal_conv_silu").launch(backend.stream(), grid((long) tokens * channels), 1, BLOCK,
                    xb.pointer(), tokens, channels, wb.pointer(), kernel, sb.pointer(), ob.pointer());
            function("conv_state_update").launch(backend.stream(), ceilDiv(channels, BLOCK), 1, BLOCK, xb.pointer(),
                    tokens, channels, kernel, sb.pointer());
        }
    }

    void deltaNetGates(DeviceBuffer alpha, DeviceBuffer beta, DeviceBuffer dtBias, DeviceBuffer a, int tokens,
            int heads) {
        synchronized (backend) {
            CudaBuffer alphaB = backend.cuda(alpha);
            CudaBuffer betaB = backend.cuda(beta);
            CudaBuffer biasB = backend.cuda(dtBias);
            CudaBuffer aB = backend.cuda(a);
            requireSize("DeltaNet decay input", alphaB, (long) tokens * heads);
            requireSize("DeltaNet beta input", betaB, (long) tokens * heads);
            requireSize("DeltaNet dt bias", biasB, heads);
            requireSize("DeltaNet A", aB, heads);
            backend.current();
            function("delta_net_gates").launch(backend.stream(), grid((long) tokens * heads), 1, BLOCK,
                    alphaB.pointer(), betaB.pointer(), biasB.pointer(), aB.pointer(), tokens, heads);
        }
    }

    void deltaNet(DeviceBuffer qkv, DeviceBuffer g, DeviceBuffer beta, int tokens, DeltaNetShape shape,
            DeviceBuffer state, DeviceBuffer out) {
        synchronized (backend) {
            if (shape.keyDim() > MAX_KEY_DIM) {
                throw new IllegalArgumentException("DeltaNet: key heads of " + shape.keyDim() + " dims; the CUDA"
                        + " backend takes at most " + MAX_KEY_DIM);
            }
            CudaBuffer in = backend.cuda(qkv);
            CudaBuffer gb = backend.cuda(g);
            CudaBuffer bb = backend.cuda(beta);
            CudaBuffer sb = backend.cuda(state);
            CudaBuffer ob = backend.cuda(out);
            requireSize("DeltaNet input", in, (long) tokens * shape.channels());
            requireSize("DeltaNet decay", gb, (long) tokens * shape.valueHeads());
            requireSize("DeltaNet beta", bb, (long) tokens * shape.valueHeads());
            requireSize("DeltaNet state", sb, shape.stateSize());
            requireSize("DeltaNet output", ob, (long) tokens * shape.valueWidth());
            if (tokens == 0) {
                return;
            }
            backend.current();
            if (tokens < CHUNKED_MIN_TOKENS) {
                function("delta_net").launch(backend.stream(), shape.valueHeads(), ceilDiv(shape.valueDim(), WARPS),
                        WARPS * 32, in.pointer(), gb.pointer(), bb.pointer(), tokens, shape.keyHeads(),
                        shape.valueHeads(), shape.keyDim(), shape.valueDim(), shape.eps(), sb.pointer(), ob.pointer());
            } else {
                deltaNetChunked(in, gb, bb, tokens, shape, sb, ob);
            }
        }
    }

    private void deltaNetChunked(CudaBuffer qkv, CudaBuffer g, CudaBuffer beta, int tokens, DeltaNetShape shape,
            CudaBuffer state, CudaBuffer out) {
        long record = (long) CHUNK * (3 * shape.keyDim() + shape.valueDim() + CHUNK) + 1;
        int slab = SLAB_CHUNKS * CHUNK;
        CUdeviceptr work = backend.scratch().get(Region.DELTA_CHUNKS,
                (long) shape.valueHeads() * Math.min(SLAB_CHUNKS, ceilDiv(tokens, CHUNK)) * record * Float.BYTES);
        for (int t0 = 0; t0 < tokens; t0 += slab) {
            int n = Math.min(slab, tokens - t0);
            long gates = (long) t0 * shape.valueHeads() * Float.BYTES;
            function("delta_net_chunk_prepare").launch(backend.stream(), shape.valueHeads(), ceilDiv(n, CHUNK), BLOCK,
                    qkv.pointer().withByteOffset((long) t0 * shape.channels() * Float.BYTES),
                    g.pointer().withByteOffset(gates), beta.pointer().withByteOffset(gates), n, shape.keyHeads(),
                    shape.valueHeads(), shape.keyDim(), shape.valueDim(), shape.eps(), work);
            function("delta_net_chunk_state").launch(backend.stream(), shape.valueHeads(),
                    ceilDiv(shape.valueDim(), TILE), BLOCK, work, n, shape.valueHeads(), shape.keyDim(),
                    shape.valueDim(), state.pointer(),
                    out.pointer().withByteOffset((long) t0 * shape.valueWidth() * Float.BYTES));
        }
    }

    void rmsNormGated(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer z, int rows, int dim, float eps,
            DeviceBuffer out) {
        synchronized (backend) {
            CudaBuffer xb = backend.cuda(x);
            CudaBuffer wb = backend.cuda(weight);
            CudaBuffer zb = backend.cuda(z);
            CudaBuffer ob = backend.cuda(out);
            requireSize("gated norm weight", wb, dim);
            requireSize("gated norm input", xb, (long) rows * dim);
            requireSize("gated norm gate", zb, (long) rows * dim);
            requireSize("gated norm output", ob, (long) rows * dim);
            backend.current();
            function("rms_norm_gated").launch(backend.stream(), ceilDiv(rows, WARPS), 1, WARPS * 32, xb.pointer(),
                    wb.pointer(), zb.pointer(), rows, dim, eps, ob.pointer());
        }
    }

    private CudaFunction function(String name) {
        return backend.kernels().get(name);
    }
}
