package dev.pflash.runtime.backend.cuda;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeltaNetShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.RopeStyle;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.backend.cuda.CudaMemory.Use;
import dev.pflash.runtime.backend.cuda.CudaScratch.Region;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA backend: the {@link Backend} ops as kernels of the committed PTX (src/main/cuda),
 * through JCuda's driver API. Weights are uploaded once in their stored (quantized) type;
 * buffers, the KV cache included, live in device memory. Every op is queued on one stream and
 * returns at once; {@link #read} waits for the result.
 *
 * <p>A matrix multiply of up to {@value #MATVEC_MAX_TOKENS} tokens (a decode step) reads the
 * quantized weights directly in f32; a larger one (a prefill chunk) multiplies on tensor cores
 * with f32 accumulation, dequantizing each tile of the weight to f16 inside the kernel (inputs
 * beyond the f16 range are clamped to +-65504). Attention of 16 or more queries with head dim 64
 * or 128 is flash attention on tensor cores (f16 inputs, f32 softmax and accumulation), split
 * over the keys when a short chunk meets a long cache; other attention runs in f32, split over
 * the KV cache. So prefill results differ from the CPU's by f16 rounding (relative 2^-11 per
 * input), decode results by float summation order only.
 *
 * <p>Buffers are f32, or f16 where allocated so ({@link ElementType#F16}, for a KV cache: half
 * the memory); copy, read and write convert, and attention and the PFlash ops read keys and
 * values of either type. Every other op takes f32 buffers only.
 *
 * <p>Ops are serialized by the backend's lock and may be called from any thread.
 */
public final class CudaBackend implements Backend {
    static final int MATVEC_MAX_TOKENS = 8;
    static final int FLASH_MIN_QUERIES = 16;
    /** Tiles of the prefill GEMM (matmul.cu GEMM_BM/BN, GEMM_THREADS, GEMM_STAGES x (BM + BN) x 40 halfs). */
    static final int GEMM_TILE = 128;
    static final int GEMM_THREADS = 256;
    static final int GEMM_SHARED_BYTES = 2 * (128 + 128) * 40 * 2;
    /** Warps (one weight row each) per block of matvec_q (matmul.cu MATVEC_WARPS). */
    static final int MATVEC_WARPS = 8;
    /**
     * Threads of the 4-warp kernels: attention_split and sparse_attention_rows (row_attention.cuh
     * ROW_WARPS), block_mean_keys, select_blocks; and the heads one attention_split block takes (ROW_GROUP).
     */
    static final int ROW_THREADS = 128;
    static final int ROW_GROUP = 4;
    /** A chunk's flash attention is split over keys when it has fewer blocks than this per SM... */
    private static final int FLASH_SPLIT_BLOCKS_PER_SM = 2;
    /** ...and each split gets at least this many keys. */
    private static final int FLASH_SPLIT_MIN_KEYS = 1024;
    private static final int MAX_SPLIT_HEAD_DIM = 256;
    static final int BLOCK = 256;
    private static final int SPLIT_MIN_KEYS = 256;
    private static final int SPLIT_MAX = 64;
    private static final Set<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0,
            GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    private static final Logger LOG = LoggerFactory.getLogger(CudaBackend.class);

    private final CudaContext context;
    private final CudaKernels kernels;
    private final CudaMemory memory;
    private final CudaScratch scratch;
    private final CudaPflashOps pflash;
    private final CudaHybridOps hybrid;
    private final Map<RotaryEmbedding, CUdeviceptr> ropeFrequencies = new IdentityHashMap<>();
    private final Map<RotaryEmbedding, Long> ropeBytes = new IdentityHashMap<>();
    private int[] uploadedPositions;
    private CUdeviceptr positionsOnDevice;
    private boolean closed;

    private CudaBackend(CudaContext context) {
        this.context = context;
        try {
            this.kernels = new CudaKernels(context.info());
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        this.memory = new CudaMemory(context.info());
        this.scratch = new CudaScratch(context, memory);
        this.pflash = new CudaPflashOps(this);
        this.hybrid = new CudaHybridOps(this);
    }

    /**
     * Opens device {@code ordinal}.
     *
     * @throws CudaException if the device cannot be used: no driver, no such device, a driver too old for the PTX
     */
    public static CudaBackend open(int ordinal) {
        CudaProbe probe = CudaProbe.get();
        if (!probe.available()) {
            throw new CudaException("CUDA is not available: " + probe.reason(), 0);
        }
        CudaBackend b = new CudaBackend(CudaContext.open(ordinal));
        LOG.info("CUDA backend on {}; kernels {}", b.context.info(), PtxModules.describe(PtxModules.requirement()));
        return b;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int threads() {
        return 1;
    }

    /** The device this backend runs on. */
    public CudaDeviceInfo device() {
        return context.info();
    }

    /** The PFlash ops of this backend. */
    public CudaPflashOps pflash() {
        return pflash;
    }

    @Override
    public String toString() {
        return "cuda (" + context.info() + ")";
    }

    // ---- memory

    @Override
    public synchronized WeightMatrix upload(TensorData tensor) {
        long[] dims = tensor.dims();
        if (dims.length > 2) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has " + dims.length
                    + " dimensions; a weight matrix has at most 2");
        }
        if (!SUPPORTED.contains(tensor.type())) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has type " + tensor.type()
                    + ", which the CUDA backend cannot multiply; supported: " + SUPPORTED);
        }
        if (tensor.rowCount() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + tensor.name() + " has " + tensor.rowCount()
                    + " rows; at most " + Integer.MAX_VALUE + " are supported");
        }
        current();
        int rows = (int) tensor.rowCount();
        int rowBytes = tensor.rowBytes();
        long bytes = (long) rows * rowBytes;
        CUdeviceptr data = memory.allocate(Math.max(bytes, 1), Use.WEIGHTS, "weights of " + tensor.name());
        // Each piece of the tensor holds whole rows; copy maximal runs of rows that share a piece.
        long row = 0;
        while (row < rows) {
            ByteBuffer piece = tensor.buffer(row);
            int start = tensor.offset(row);
            long run = 1;
            while (row + run < rows && tensor.buffer(row + run) == piece) {
                run++;
            }
            long length = run * rowBytes;
            ByteBuffer view = piece.duplicate().position(start).limit(Math.toIntExact(start + length)).slice();
            if (!view.isDirect() && !view.hasArray()) {
                // A read-only heap buffer: JCuda can address neither its memory nor its array.
                view = ByteBuffer.allocate(view.remaining()).put(view).flip();
            }
            // Pointer.toBuffer honours the buffer's position and array offset; Pointer.to does not.
            CudaCalls.check(JCudaDriver.cuMemcpyHtoD(data.withByteOffset(row * rowBytes), Pointer.toBuffer(view), length),
                    "upload of " + tensor.name());
            row += run;
        }
        return new CudaWeightMatrix(this, tensor.name(), tensor.type(), rows, tensor.rowLength(), rowBytes, data);
    }

    @Override
    public DeviceBuffer allocate(int size) {
        return allocate(size, ElementType.F32);
    }

    @Override
    public synchronized DeviceBuffer allocate(int size, ElementType type) {
        CudaBuffer b = newBuffer(size, type);
        if (size > 0) {
            CudaCalls.check(type == ElementType.F16 ? JCudaDriver.cuMemsetD16Async(b.pointer(), (short) 0, size, stream())
                    : JCudaDriver.cuMemsetD32Async(b.pointer(), 0, size, stream()), "cuMemsetAsync");
        }
        return b;
    }

    @Override
    public synchronized DeviceBuffer upload(float[] values) {
        CudaBuffer b = newBuffer(values.length, ElementType.F32);
        write(values, 0, b);
        return b;
    }

    @Override
    public synchronized void read(DeviceBuffer src, float[] dst, int dstOffset) {
        CudaBuffer s = anyType(src);
        if (dstOffset < 0 || dstOffset > dst.length - s.size()) {
            throw new IndexOutOfBoundsException("read of " + s.size() + " elements into an array of " + dst.length
                    + " at " + dstOffset);
        }
        current();
        if (s.size() == 0) {
            return;
        }
        CUdeviceptr from = s.pointer();
        if (s.type() == ElementType.F16) {
            from = scratch.get(Region.CONVERT, (long) s.size() * Float.BYTES);
            convert("f16_to_f32", s.pointer(), s.size(), from);
        }
        context.synchronize();
        CudaCalls.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES), from,
                (long) s.size() * Float.BYTES), "cuMemcpyDtoH");
    }

    @Override
    public synchronized void write(float[] src, int srcOffset, DeviceBuffer dst) {
        CudaBuffer d = anyType(dst);
        if (srcOffset < 0 || srcOffset > src.length - d.size()) {
            throw new IndexOutOfBoundsException("write of " + d.size() + " elements from an array of " + src.length
                    + " at " + srcOffset);
        }
        current();
        if (d.size() == 0) {
            return;
        }
        CUdeviceptr to = d.type() == ElementType.F16 ? scratch.get(Region.CONVERT, (long) d.size() * Float.BYTES)
                : d.pointer();
        // Queued ops may still read the destination; host-to-device copies are not stream-ordered.
        context.synchronize();
        CudaCalls.check(JCudaDriver.cuMemcpyHtoD(to, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES),
                (long) d.size() * Float.BYTES), "cuMemcpyHtoD");
        if (d.type() == ElementType.F16) {
            convert("f32_to_f16", to, d.size(), d.pointer());
        }
    }

    @Override
    public synchronized void copy(DeviceBuffer src, DeviceBuffer dst) {
        CudaBuffer s = anyType(src);
        CudaBuffer d = anyType(dst);
        requireSize("copy destination", d, s.size());
        current();
        if (s.size() == 0) {
            return;
        }
        if (s.type() == d.type()) {
            CudaCalls.check(JCudaDriver.cuMemcpyDtoDAsync(d.pointer(), s.pointer(), s.bytes(), stream()),
                    "cuMemcpyDtoDAsync");
        } else {
            convert(d.type() == ElementType.F16 ? "f32_to_f16" : "f16_to_f32", s.pointer(), s.size(), d.pointer());
        }
    }

    // ---- ops

    @Override
    public synchronized void embed(WeightMatrix table, int[] tokens, DeviceBuffer out) {
        CudaWeightMatrix w = weights(table);
        CudaBuffer o = cuda(out);
        requireSize("embedding output", o, (long) tokens.length * w.cols());
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= w.rows()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " at index " + t + " is outside the "
                        + w.rows() + " rows of " + w.name());
            }
        }
        if (tokens.length == 0) {
            return;
        }
        current();
        CUdeviceptr ids = uploadInts(Region.TOKENS, tokens);
        long groups = (long) tokens.length * ((w.cols() + 7) / 8);
        kernels.get("embed_rows").launch(stream(), grid(groups), 1, BLOCK, w.type().id(), w.row(0), (long) w.rowBytes(),
                w.cols(), ids, tokens.length, o.pointer());
    }

    @Override
    public synchronized void matmul(WeightMatrix w, DeviceBuffer x, int tokens, DeviceBuffer out) {
        CudaWeightMatrix m = weights(w);
        CudaBuffer in = cuda(x);
        CudaBuffer o = cuda(out);
        requireSize("matmul input for " + m.name(), in, (long) tokens * m.cols());
        requireSize("matmul output for " + m.name(), o, (long) tokens * m.rows());
        if (tokens <= 0) {
            return;
        }
        current();
        if (tokens <= MATVEC_MAX_TOKENS) {
            kernels.get("matvec_q").launch(stream(), ceilDiv(m.rows(), MATVEC_WARPS), 1, MATVEC_WARPS * 32,
                    m.type().id(), m.row(0), (long) m.rowBytes(), m.rows(), m.cols(), in.pointer(), tokens, o.pointer());
            return;
        }
        kernels.get("gemm_q").launch(stream(), ceilDiv(m.rows(), GEMM_TILE), ceilDiv(tokens, GEMM_TILE), GEMM_THREADS,
                m.type().id(), m.row(0), (long) m.rowBytes(), in.pointer(), tokens, m.rows(), m.cols(), o.pointer(),
                m.rows());
    }

    @Override
    public synchronized void rmsNorm(DeviceBuffer x, DeviceBuffer weight, int rows, int dim, float eps,
            DeviceBuffer out) {
        CudaBuffer in = cuda(x);
        CudaBuffer w = cuda(weight);
        CudaBuffer o = cuda(out);
        requireSize("rmsNorm weight", w, dim);
        requireSize("rmsNorm input", in, (long) rows * dim);
        requireSize("rmsNorm output", o, (long) rows * dim);
        current();
        kernels.get("rms_norm").launch(stream(), ceilDiv(rows, 8), 1, BLOCK, in.pointer(), w.pointer(), rows, dim, eps,
                o.pointer());
    }

    @Override
    public synchronized void addBias(DeviceBuffer x, DeviceBuffer bias, int rows, int dim) {
        CudaBuffer o = cuda(x);
        CudaBuffer b = cuda(bias);
        requireSize("bias", b, dim);
        requireSize("addBias input", o, (long) rows * dim);
        current();
        kernels.get("add_bias").launch(stream(), grid((long) rows * dim), 1, BLOCK, o.pointer(), b.pointer(), rows, dim);
    }

    @Override
    public synchronized void add(DeviceBuffer x, DeviceBuffer y, int n) {
        CudaBuffer a = cuda(x);
        CudaBuffer b = cuda(y);
        requireSize("add target", a, n);
        requireSize("add operand", b, n);
        current();
        kernels.get("add_inplace").launch(stream(), grid(n), 1, BLOCK, a.pointer(), b.pointer(), n);
    }

    @Override
    public synchronized void swiglu(DeviceBuffer gate, DeviceBuffer up, int n, DeviceBuffer out) {
        CudaBuffer g = cuda(gate);
        CudaBuffer u = cuda(up);
        CudaBuffer o = cuda(out);
        requireSize("swiglu gate", g, n);
        requireSize("swiglu up", u, n);
        requireSize("swiglu output", o, n);
        current();
        kernels.get("swiglu").launch(stream(), grid(n), 1, BLOCK, g.pointer(), u.pointer(), n, o.pointer());
    }

    @Override
    public synchronized void rope(DeviceBuffer x, int tokens, int heads, int headDim, int[] positions,
            RotaryEmbedding rope) {
        CudaBuffer b = cuda(x);
        requireSize("rope input", b, (long) tokens * heads * headDim);
        if (positions.length < tokens) {
            throw new IllegalArgumentException("rope: " + positions.length + " positions for " + tokens + " tokens");
        }
        if (rope.dims() > headDim) {
            throw new IllegalArgumentException("rope rotates " + rope.dims() + " dimensions of heads of only " + headDim);
        }
        if (tokens == 0) {
            return;
        }
        current();
        CUdeviceptr pos = positions(positions);
        CUdeviceptr freq = ropeFrequencies.computeIfAbsent(rope, this::uploadFrequencies);
        kernels.get("rope").launch(stream(), grid((long) tokens * (rope.dims() / 2)), 1, BLOCK, b.pointer(), tokens,
                heads, headDim, pos, freq, rope.dims(), rope.style() == RopeStyle.NEOX ? 1 : 0);
    }

    @Override
    public synchronized void attention(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens,
            int firstIndex, AttentionShape shape, DeviceBuffer out) {
        CudaBuffer qb = cuda(q);
        CudaBuffer kb = anyType(keys);
        CudaBuffer vb = anyType(values);
        CudaBuffer ob = cuda(out);
        requireSameType("attention", kb, vb);
        if (firstIndex < 0) {
            throw new IllegalArgumentException("attention: first cache index must be >= 0, got " + firstIndex);
        }
        long cached = (long) (firstIndex + tokens) * shape.kvDim();
        requireSize("attention queries", qb, (long) tokens * shape.queryDim());
        requireSize("attention keys", kb, cached);
        requireSize("attention values", vb, cached);
        requireSize("attention output", ob, (long) tokens * shape.queryDim());
        if (tokens == 0) {
            return;
        }
        current();
        int d = shape.headDim();
        int pairs = tokens * shape.heads();
        int cachedKeys = firstIndex + tokens;
        String flash = "flash_attention_d" + d;
        if (tokens >= FLASH_MIN_QUERIES && (d == 64 || d == 128) && kernels.has(flash)) {
            int blocks = ceilDiv(tokens, FlashAttentionLayout.QUERIES_PER_BLOCK) * shape.heads();
            int wanted = ceilDiv(FLASH_SPLIT_BLOCKS_PER_SM * context.info().multiprocessors(), blocks);
            int splits = Math.max(1, Math.min(Math.min(wanted, SPLIT_MAX), cachedKeys / FLASH_SPLIT_MIN_KEYS));
            int keysPerSplit = roundUp(ceilDiv(cachedKeys, splits), FlashAttentionLayout.KEYS_PER_TILE);
            splits = ceilDiv(cachedKeys, keysPerSplit);
            CUdeviceptr partial = splits == 1 ? new CUdeviceptr()
                    : scratch.get(Region.ATTENTION_PARTIAL, (long) pairs * splits * (d + 2) * Float.BYTES);
            kernels.get(flash).launchWithZ(stream(), ceilDiv(tokens, FlashAttentionLayout.QUERIES_PER_BLOCK),
                    shape.heads(), splits, FlashAttentionLayout.WARPS * 32, qb.pointer(), kb.pointer(), vb.pointer(),
                    kb.halfFlag(), tokens, firstIndex, shape.heads(), shape.kvHeads(), shape.scale(), ob.pointer(),
                    keysPerSplit, partial);
            combine(partial, splits, pairs, shape, ob);
            return;
        }
        if (d > MAX_SPLIT_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dim " + d + " exceeds the CUDA backend's limit of "
                    + MAX_SPLIT_HEAD_DIM);
        }
        int group = shape.heads() / shape.kvHeads();
        int headsPerBlock = ROW_GROUP;
        while (group % headsPerBlock != 0) {
            headsPerBlock--;
        }
        int blocks = pairs / headsPerBlock;
        int wanted = Math.max(1, 4 * context.info().multiprocessors() / blocks);
        int splits = Math.max(1, Math.min(Math.min(wanted, SPLIT_MAX), ceilDiv(cachedKeys, SPLIT_MIN_KEYS)));
        int keysPerSplit = ceilDiv(cachedKeys, splits);
        splits = ceilDiv(cachedKeys, keysPerSplit);
        CUdeviceptr partial = splits == 1 ? new CUdeviceptr()
                : scratch.get(Region.ATTENTION_PARTIAL, (long) pairs * splits * (d + 2) * Float.BYTES);
        String rows = d <= 128 ? "attention_split_d128" : "attention_split";
        kernels.get(rows).launch(stream(), blocks, splits, ROW_THREADS, qb.pointer(), kb.pointer(),
                vb.pointer(), kb.halfFlag(), tokens, firstIndex, shape.heads(), shape.kvHeads(), d, headsPerBlock,
                shape.scale(), keysPerSplit, ob.pointer(), partial);
        combine(partial, splits, pairs, shape, ob);
    }

    /** Merges the per-split partial results of attention into its output; nothing to do for one split. */
    private void combine(CUdeviceptr partial, int splits, int pairs, AttentionShape shape, CudaBuffer out) {
        if (splits > 1) {
            kernels.get("attention_combine").launch(stream(), pairs, 1, roundUp(Math.min(shape.headDim(), 256), 32),
                    partial, splits, shape.heads(), shape.headDim(), out.pointer());
        }
    }

    // ---- ops of the qwen35 hybrid layers, in CudaHybridOps

    @Override
    public void split(DeviceBuffer packed, int rows, int first, int second, DeviceBuffer a, DeviceBuffer b) {
        hybrid.split(packed, rows, first, second, a, b);
    }

    @Override
    public void sigmoidMul(DeviceBuffer x, DeviceBuffer gate, int n) {
        hybrid.sigmoidMul(x, gate, n);
    }

    @Override
    public void causalConvSilu(DeviceBuffer x, int tokens, int channels, DeviceBuffer weight, int kernel,
            DeviceBuffer state, DeviceBuffer out) {
        hybrid.causalConvSilu(x, tokens, channels, weight, kernel, state, out);
    }

    @Override
    public void deltaNetGates(DeviceBuffer alpha, DeviceBuffer beta, DeviceBuffer dtBias, DeviceBuffer a, int tokens,
            int heads) {
        hybrid.deltaNetGates(alpha, beta, dtBias, a, tokens, heads);
    }

    @Override
    public void deltaNet(DeviceBuffer qkv, DeviceBuffer g, DeviceBuffer beta, int tokens, DeltaNetShape shape,
            DeviceBuffer state, DeviceBuffer out) {
        hybrid.deltaNet(qkv, g, beta, tokens, shape, state, out);
    }

    @Override
    public void rmsNormGated(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer z, int rows, int dim, float eps,
            DeviceBuffer out) {
        hybrid.rmsNormGated(x, weight, z, rows, dim, eps, out);
    }

    @Override
    public boolean runsHybridLayers() {
        return true;
    }

    /** Waits until every queued op has run; reports a failure of any of them. */
    public synchronized void synchronize() {
        current();
        context.synchronize();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        current();
        context.synchronize();
        closed = true;
        scratch.release();
        ropeFrequencies.forEach((rope, p) -> memory.free(p, ropeBytes.get(rope), Use.BUFFERS));
        ropeFrequencies.clear();
        ropeBytes.clear();
        memory.releasePool();
        kernels.close();
        context.close();
    }

    // ---- package-private services for buffers, weights and the PFlash ops

    CudaKernels kernels() {
        return kernels;
    }

    CudaScratch scratch() {
        return scratch;
    }

    CudaMemory memory() {
        return memory;
    }

    CUstream stream() {
        return context.stream();
    }

    CudaContext context() {
        return context;
    }

    /** Makes the context current on this thread; fails once the backend is closed. */
    void current() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend on " + context.info().name() + " is closed");
        }
        context.makeCurrent();
    }

    synchronized void release(CUdeviceptr p, long bytes) {
        if (!closed) {
            context.makeCurrent();
            memory.free(p, bytes, Use.BUFFERS);
        }
    }

    synchronized void releaseWeights(CUdeviceptr p, long bytes) {
        if (!closed) {
            context.makeCurrent();
            memory.free(p, Math.max(bytes, 1), Use.WEIGHTS);
        }
    }

    CudaBuffer newBuffer(int size, ElementType type) {
        if (size < 0) {
            throw new IllegalArgumentException("buffer size must be >= 0, got " + size);
        }
        if (type == ElementType.Q8_0) {
            throw new IllegalArgumentException("the CUDA backend stores a KV cache as f16 or f32, not q8_0 (a CPU-only"
                    + " type): use --kv-cache-type=f16 or the cpu backend");
        }
        current();
        long bytes = Math.max(1L, type.bytes(size));
        CUdeviceptr p = memory.allocate(bytes, Use.BUFFERS, "a buffer of " + size + " " + type + " elements");
        return new CudaBuffer(this, p, type, 0, size, true);
    }

    /** Copies {@code values} into scratch region {@code r} once the queued ops are done with it, without waiting. */
    CUdeviceptr uploadInts(Region r, int[] values) {
        return scratch.upload(r, values);
    }

    /** An f32 buffer of this backend: what every op but copy, read, write and the KV cache readers takes. */
    CudaBuffer cuda(DeviceBuffer b) {
        CudaBuffer c = anyType(b);
        if (c.type() != ElementType.F32) {
            throw new IllegalArgumentException("buffer " + b + " is " + c.type()
                    + "; this op takes F32 buffers (F16 is for a KV cache: copy, read, write, attention)");
        }
        return c;
    }

    /** A buffer of this backend of either element type. */
    CudaBuffer anyType(DeviceBuffer b) {
        if (b instanceof CudaBuffer c && c.owner() == this) {
            return c;
        }
        throw new IllegalArgumentException("buffer " + b + " does not belong to this CUDA backend");
    }

    static void requireSameType(String op, CudaBuffer keys, CudaBuffer values) {
        if (keys.type() != values.type()) {
            throw new IllegalArgumentException(op + ": keys are " + keys.type() + " but values " + values.type());
        }
    }

    static int grid(long threads) {
        return (int) Math.max(1, Math.min(ceilDiv(threads, BLOCK), 65_535L * 8));
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static int roundUp(int a, int multiple) {
        return ceilDiv(a, multiple) * multiple;
    }

    static void requireSize(String what, CudaBuffer b, long needed) {
        if (b.size() < needed) {
            throw new IllegalArgumentException(what + ": buffer of " + b.size() + " elements, needs " + needed);
        }
    }

    // ---- helpers

    private CudaWeightMatrix weights(WeightMatrix w) {
        if (w instanceof CudaWeightMatrix c && c.owner() == this) {
            return c;
        }
        throw new IllegalArgumentException("weight matrix " + w + " does not belong to this CUDA backend");
    }

    /** The positions on the device; the forward pass passes the same positions for every layer of a chunk. */
    private CUdeviceptr positions(int[] positions) {
        if (uploadedPositions == null || !Arrays.equals(uploadedPositions, positions)) {
            uploadedPositions = null;
            positionsOnDevice = uploadInts(Region.POSITIONS, positions);
            uploadedPositions = positions.clone();
        }
        return positionsOnDevice;
    }

    private CUdeviceptr uploadFrequencies(RotaryEmbedding rope) {
        double[] inv = new double[rope.dims() / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = rope.inverseFrequency(i);
        }
        long bytes = Math.max(1L, (long) inv.length * Double.BYTES);
        CUdeviceptr p = memory.allocate(bytes, Use.BUFFERS, "rope frequencies");
        ropeBytes.put(rope, bytes);
        // The table may reuse a pooled block that queued ops still read; wait before the synchronous copy.
        context.synchronize();
        CudaCalls.check(JCudaDriver.cuMemcpyHtoD(p, Pointer.to(inv), (long) inv.length * Double.BYTES),
                "cuMemcpyHtoD(rope frequencies)");
        return p;
    }

    /** out[i] = in[i] converted by {@code kernel} (f32_to_f16 or f16_to_f32), i < n, queued on the stream. */
    private void convert(String kernel, CUdeviceptr in, int n, CUdeviceptr out) {
        kernels.get(kernel).launch(stream(), grid(n), 1, BLOCK, in, (long) n, out);
    }
}
