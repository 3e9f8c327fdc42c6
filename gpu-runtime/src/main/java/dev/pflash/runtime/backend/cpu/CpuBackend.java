package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionChunk;
import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeltaNetShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.RopeStyle;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.backend.cpu.CpuScratch.Slot;
import dev.pflash.runtime.gguf.TensorData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference backend: pure Java, every op multi-threaded over one fixed pool of
 * {@link #threads()} threads (the calling thread is one of them). Weights stay in their stored
 * type and are read in place; buffers are float arrays on the heap. Safe to use from several
 * threads at once; each op call is synchronous.
 */
public final class CpuBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(CpuBackend.class);
    /**
     * Elementwise ops on fewer floats than this run on the calling thread alone. A decode step of 8
     * sequences (8 x 1024 floats per norm or add) is split: with 1 << 15, the second thread idled
     * through them, and the 8-sequence decode ran about 5% slower.
     */
    private static final int PARALLEL_MIN_ELEMENTS = 1 << 13;
    /**
     * Matmul calls of at least this many tokens (prefill chunks) run on the vector kernels' token
     * panels, whose sums associate differently from those of smaller calls (decode steps): a token
     * gets the same bits in any call on the same side of this count, and values within float
     * rounding across it. On matrices repacked for the vector kernels both sides add in the
     * panels' order, and the scalar kernels add in one order too: there a token gets the same bits
     * for every count.
     */
    public static final int PANEL_TOKENS = 32;
    /**
     * Share of the maximum heap that repacking quantized matrices ({@link InterleavedWeights}) leaves
     * free, for activations, KV caches and the prefix cache.
     */
    private static final double HEAP_KEPT_FREE = 0.25;
    /**
     * Most of the maximum heap the repacked copies may take together, so that a model too big to
     * repack whole (a 27B on a 12 GB heap) leaves its KV cache room beyond {@link #HEAP_KEPT_FREE}.
     */
    private static final double HEAP_FOR_REPACKED = 0.5;

    private final CpuThreadPool pool;
    private final ThreadLocal<CpuScratch> scratch = ThreadLocal.withInitial(CpuScratch::new);
    private final ThreadLocal<AttentionScratch> attentionScratch = ThreadLocal.withInitial(AttentionScratch::new);
    private final AttentionKernel attentionKernel = AttentionKernel.forThisJvm();
    private final DeltaRuleKernel deltaRuleKernel = DeltaRuleKernel.forThisJvm();

    /** Whether the matmuls run {@link VectorMatmul} or the scalar reference {@link CpuMatmul}. */
    private final boolean vectorKernels;
    /** Whether uploaded quantized matrices get a repacked copy while the heap has room for it. */
    private final boolean repack;
    private final AtomicBoolean heapShortLogged = new AtomicBoolean();
    /** Heap bytes of the repacked copies made so far. */
    private final AtomicLong repackedBytes = new AtomicLong();

    /**
     * A backend running each op on {@code threads} threads (at least 1), with the vector kernels
     * when {@link VectorSupport#useVectorKernels()} allows them.
     */
    public CpuBackend(int threads) {
        this(threads, true);
    }

    /** As {@link #CpuBackend(int)}; {@code repack} false keeps every matrix in the file's layout only. */
    CpuBackend(int threads, boolean repack) {
        this.pool = new CpuThreadPool(threads);
        this.vectorKernels = chooseVectorKernels();
        this.repack = repack && vectorKernels;
    }

    private static boolean chooseVectorKernels() {
        if (!VectorSupport.useVectorKernels()) {
            VectorSupport.logChoiceOnce(null);
            return false;
        }
        if (!VectorMatmul.supported()) {
            VectorSupport.logScalarOnce("the CPU's preferred vectors hold " + VectorMatmul.LANES
                    + " floats; the vector kernels need at least 8");
            return false;
        }
        VectorSupport.logChoiceOnce("matmul: " + VectorMatmul.describe());
        return true;
    }

    /** Whether this backend's matmuls run the Vector API kernels (else the scalar reference kernels). */
    public boolean vectorKernels() {
        return vectorKernels;
    }

    /** A backend with one thread per available processor. */
    public static CpuBackend create() {
        return new CpuBackend(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    @Override
    public String toString() {
        return "cpu (" + pool.threads() + " threads, " + (vectorKernels ? "vector" : "scalar") + " kernels)";
    }

    // ---- memory

    /**
     * The tensor read in place; a quantized matrix also repacked on the heap for the vector kernels
     * ({@link InterleavedWeights}) while the copies take at most {@link #HEAP_FOR_REPACKED} of the
     * maximum heap and leave {@link #HEAP_KEPT_FREE} of it free.
     * A matrix left out runs on the row kernels instead, a third to a half slower in decode, and
     * the log says so once.
     */
    @Override
    public WeightMatrix upload(TensorData tensor) {
        CpuWeightMatrix m = new CpuWeightMatrix(tensor);
        if (!repack || !InterleavedWeights.handles(m.type())) {
            return m;
        }
        long bytes = InterleavedWeights.heapBytes(m.type(), m.rows(), m.cols());
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (!heapHolds(bytes, repackedBytes.get(), free, rt.maxMemory())) {
            if (heapShortLogged.compareAndSet(false, true)) {
                LOG.warn("{} matrix {} ({} MiB repacked) stays in the file's layout, and so may later ones: the"
                        + " heap has {} MiB free of {} MiB, {} MiB of it repacked copies (at most half the heap)."
                        + " Their decode runs on the slower row kernels; a larger -Xmx repacks them", m.type(),
                        m.name(), bytes >> 20, free >> 20, rt.maxMemory() >> 20, repackedBytes.get() >> 20);
            }
            return m;
        }
        repackedBytes.addAndGet(bytes);
        return m.withInterleaved(InterleavedWeights.repack(pool, m));
    }

    /** The tensor read in place, never repacked: row lookups read the file's layout. */
    @Override
    public WeightMatrix uploadTable(TensorData tensor) {
        return new CpuWeightMatrix(tensor);
    }

    /**
     * Whether a heap of {@code max} bytes, {@code free} of them free and {@code repacked} of them
     * repacked copies, takes a copy of {@code bytes} more: the copies stay within
     * {@link #HEAP_FOR_REPACKED} of it and {@link #HEAP_KEPT_FREE} of it stays free.
     */
    static boolean heapHolds(long bytes, long repacked, long free, long max) {
        return repacked + bytes <= HEAP_FOR_REPACKED * max && free - bytes >= HEAP_KEPT_FREE * max;
    }

    @Override
    public DeviceBuffer allocate(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("buffer size must be >= 0, got " + size);
        }
        return new CpuBuffer(new float[size], 0, size);
    }

    @Override
    public DeviceBuffer allocate(int size, ElementType type) {
        if (type == ElementType.Q8_0) {
            return CpuQ8Buffer.allocate(size);
        }
        if (type == ElementType.F16) {
            if (size < 0) {
                throw new IllegalArgumentException("buffer size must be >= 0, got " + size);
            }
            return new CpuHalfBuffer(new short[size], 0, size);
        }
        return allocate(size);
    }

    @Override
    public DeviceBuffer upload(float[] values) {
        return new CpuBuffer(values.clone(), 0, values.length);
    }

    @Override
    public void read(DeviceBuffer src, float[] dst, int dstOffset) {
        if (src instanceof CpuHalfBuffer h) {
            toFloat(h.data, h.offset, dst, dstOffset, h.size());
            return;
        }
        if (src instanceof CpuQ8Buffer q) {
            dequantize(q, dst, dstOffset);
            return;
        }
        CpuBuffer s = cpu(src);
        System.arraycopy(s.data, s.offset, dst, dstOffset, s.size());
    }

    @Override
    public void write(float[] src, int srcOffset, DeviceBuffer dst) {
        if (dst instanceof CpuHalfBuffer h) {
            toHalf(src, srcOffset, h.data, h.offset, h.size());
            return;
        }
        if (dst instanceof CpuQ8Buffer q) {
            quantize(src, srcOffset, q, q.size());
            return;
        }
        CpuBuffer d = cpu(dst);
        System.arraycopy(src, srcOffset, d.data, d.offset, d.size());
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        if (dst.size() < src.size()) {
            throw new IllegalArgumentException("copy destination: buffer of " + dst.size() + " elements, needs "
                    + src.size());
        }
        if (src instanceof CpuQ8Buffer || dst instanceof CpuQ8Buffer) {
            copyQ8(src, dst);
        } else if (src instanceof CpuHalfBuffer s && dst instanceof CpuHalfBuffer d) {
            System.arraycopy(s.data, s.offset, d.data, d.offset, s.size());
        } else if (src instanceof CpuHalfBuffer s) {
            read(s, cpu(dst).data, cpu(dst).offset);
        } else if (dst instanceof CpuHalfBuffer d) {
            CpuBuffer s = cpu(src);
            toHalf(s.data, s.offset, d.data, d.offset, s.size());
        } else {
            CpuBuffer s = cpu(src);
            CpuBuffer d = cpu(dst);
            System.arraycopy(s.data, s.offset, d.data, d.offset, s.size());
        }
    }

    // ---- ops

    @Override
    public void embed(WeightMatrix table, int[] tokens, DeviceBuffer out) {
        CpuWeightMatrix w = weights(table);
        CpuBuffer o = cpu(out);
        int cols = w.cols();
        requireSize("embedding output", o, (long) tokens.length * cols);
        for (int t = 0; t < tokens.length; t++) {
            if (tokens[t] < 0 || tokens[t] >= w.rows()) {
                throw new IllegalArgumentException("token id " + tokens[t] + " at index " + t + " is outside the "
                        + w.rows() + " rows of " + w.name());
            }
        }
        pool.forRange(tokens.length, pool.grain(tokens.length, 8), (from, to) -> {
            for (int t = from; t < to; t++) {
                w.dequantizeRow(tokens[t], o.data, o.offset + t * cols);
            }
        });
    }

    @Override
    public void matmul(WeightMatrix w, DeviceBuffer x, int tokens, DeviceBuffer out) {
        CpuWeightMatrix m = weights(w);
        CpuBuffer in = cpu(x);
        CpuBuffer o = cpu(out);
        requireSize("matmul input for " + m.name(), in, (long) tokens * m.cols());
        requireSize("matmul output for " + m.name(), o, (long) tokens * m.rows());
        if (vectorKernels) {
            VectorMatmul.multiply(pool, scratch, m, in.data, in.offset, tokens, o.data, o.offset);
        } else {
            CpuMatmul.multiply(pool, scratch, m, in.data, in.offset, tokens, o.data, o.offset);
        }
    }

    @Override
    public void rmsNorm(DeviceBuffer x, DeviceBuffer weight, int rows, int dim, float eps, DeviceBuffer out) {
        CpuBuffer in = cpu(x);
        CpuBuffer w = cpu(weight);
        CpuBuffer o = cpu(out);
        requireSize("rmsNorm weight", w, dim);
        requireSize("rmsNorm input", in, (long) rows * dim);
        requireSize("rmsNorm output", o, (long) rows * dim);
        pool.forRange(rows, rowGrain(dim), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xi = in.offset + r * dim;
                int oi = o.offset + r * dim;
                float scale = rmsScale(in.data, xi, dim, eps);
                for (int i = 0; i < dim; i++) {
                    o.data[oi + i] = w.data[w.offset + i] * (in.data[xi + i] * scale);
                }
            }
        });
    }

    /**
     * {@code 1 / sqrt(mean(x^2) + eps)} over {@code x[from, from + dim)}, the factor RMS norm (plain
     * or gated) multiplies each element by; squares summed in double so long rows lose no precision.
     */
    static float rmsScale(float[] x, int from, int dim, float eps) {
        double ss = 0;
        for (int i = 0; i < dim; i++) {
            float v = x[from + i];
            ss += v * v;
        }
        return (float) (1.0 / Math.sqrt(ss / dim + eps));
    }

    @Override
    public void addBias(DeviceBuffer x, DeviceBuffer bias, int rows, int dim) {
        CpuBuffer o = cpu(x);
        CpuBuffer b = cpu(bias);
        requireSize("bias", b, dim);
        requireSize("addBias input", o, (long) rows * dim);
        for (int r = 0; r < rows; r++) {
            int xi = o.offset + r * dim;
            for (int i = 0; i < dim; i++) {
                o.data[xi + i] += b.data[b.offset + i];
            }
        }
    }

    @Override
    public void add(DeviceBuffer x, DeviceBuffer y, int n) {
        CpuBuffer a = cpu(x);
        CpuBuffer b = cpu(y);
        requireSize("add target", a, n);
        requireSize("add operand", b, n);
        pool.forRange(n, elementGrain(n), (from, to) -> {
            for (int i = from; i < to; i++) {
                a.data[a.offset + i] += b.data[b.offset + i];
            }
        });
    }

    @Override
    public void swiglu(DeviceBuffer gate, DeviceBuffer up, int n, DeviceBuffer out) {
        CpuBuffer g = cpu(gate);
        CpuBuffer u = cpu(up);
        CpuBuffer o = cpu(out);
        requireSize("swiglu gate", g, n);
        requireSize("swiglu up", u, n);
        requireSize("swiglu output", o, n);
        if (vectorKernels) {
            pool.forRange(n, elementGrain(n), (from, to) -> VectorSwiglu.swiglu(g.data, g.offset, u.data, u.offset,
                    o.data, o.offset, from, to, scratch.get().vector(Slot.SWIGLU_TAIL, VectorSwiglu.TAIL_ROOM)));
            return;
        }
        pool.forRange(n, elementGrain(n), (from, to) -> {
            for (int i = from; i < to; i++) {
                float z = g.data[g.offset + i];
                o.data[o.offset + i] = z / (1f + (float) Math.exp(-z)) * u.data[u.offset + i];
            }
        });
    }

    @Override
    public void rope(DeviceBuffer x, int tokens, int heads, int headDim, int[] positions, RotaryEmbedding rope) {
        CpuBuffer b = cpu(x);
        requireSize("rope input", b, (long) tokens * heads * headDim);
        if (positions.length < tokens) {
            throw new IllegalArgumentException("rope: " + positions.length + " positions for " + tokens + " tokens");
        }
        if (rope.dims() > headDim) {
            throw new IllegalArgumentException("rope rotates " + rope.dims() + " dimensions of heads of only " + headDim);
        }
        int half = rope.dims() / 2;
        boolean neox = rope.style() == RopeStyle.NEOX;
        pool.forRange(tokens, rowGrain(heads * headDim), (from, to) -> {
            CpuScratch s = scratch.get();
            float[] cos = s.vector(Slot.ROPE_COS, half);
            float[] sin = s.vector(Slot.ROPE_SIN, half);
            for (int t = from; t < to; t++) {
                for (int i = 0; i < half; i++) {
                    double theta = positions[t] * rope.inverseFrequency(i);
                    cos[i] = (float) Math.cos(theta);
                    sin[i] = (float) Math.sin(theta);
                }
                for (int h = 0; h < heads; h++) {
                    int base = b.offset + (t * heads + h) * headDim;
                    for (int i = 0; i < half; i++) {
                        int ia = neox ? base + i : base + 2 * i;
                        int ib = neox ? ia + half : ia + 1;
                        float va = b.data[ia];
                        float vb = b.data[ib];
                        b.data[ia] = va * cos[i] - vb * sin[i];
                        b.data[ib] = va * sin[i] + vb * cos[i];
                    }
                }
            }
        });
    }

    @Override
    public void attention(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex,
            AttentionShape shape, DeviceBuffer out) {
        attention(List.of(new AttentionChunk(q, keys, values, tokens, firstIndex, out)), shape);
    }

    /** Every chunk checked, then the batch's decode chunks in one dispatch ({@code CpuAttention.run}). */
    @Override
    public void attention(List<AttentionChunk> chunks, AttentionShape shape) {
        List<CpuAttention.Chunk> checked = new ArrayList<>(chunks.size());
        for (AttentionChunk c : chunks) {
            CpuBuffer qb = cpu(c.q());
            CpuBuffer ob = cpu(c.out());
            if (c.firstIndex() < 0 || c.tokens() < 0) {
                throw new IllegalArgumentException("attention: first cache index and token count must be >= 0, got "
                        + c.firstIndex() + " and " + c.tokens());
            }
            long cached = (long) (c.firstIndex() + c.tokens()) * shape.kvDim();
            requireSize("attention queries", qb, (long) c.tokens() * shape.queryDim());
            requireElements("attention keys", c.keys(), cached);
            requireElements("attention values", c.values(), cached);
            requireSize("attention output", ob, (long) c.tokens() * shape.queryDim());
            checked.add(new CpuAttention.Chunk(qb.data, qb.offset, KvRows.of(c.keys(), shape),
                    KvRows.of(c.values(), shape), c.tokens(), c.firstIndex(), ob.data, ob.offset));
        }
        CpuAttention.run(pool, attentionScratch, attentionKernel, checked, shape);
    }

    // ---- qwen35 hybrid layers: loops in CpuHybridOps, the delta rule in CpuDeltaNet

    @Override
    public boolean runsHybridLayers() {
        return true;
    }

    @Override
    public void split(DeviceBuffer packed, int rows, int first, int second, DeviceBuffer a, DeviceBuffer b) {
        CpuBuffer p = cpu(packed);
        requireSize("split input", p, (long) rows * (first + second));
        requireSize("split first output", cpu(a), (long) rows * first);
        requireSize("split second output", cpu(b), (long) rows * second);
        CpuHybridOps.split(p, rows, first, second, cpu(a), cpu(b));
    }

    @Override
    public void sigmoidMul(DeviceBuffer x, DeviceBuffer gate, int n) {
        requireSize("sigmoidMul target", cpu(x), n);
        requireSize("sigmoidMul gate", cpu(gate), n);
        CpuHybridOps.sigmoidMul(cpu(x), cpu(gate), n);
    }

    @Override
    public void causalConvSilu(DeviceBuffer x, int tokens, int channels, DeviceBuffer weight, int kernel,
            DeviceBuffer state, DeviceBuffer out) {
        if (kernel < 1) {
            throw new IllegalArgumentException("convolution kernel must be >= 1, got " + kernel);
        }
        requireSize("convolution input", cpu(x), (long) tokens * channels);
        requireSize("convolution weight", cpu(weight), (long) channels * kernel);
        requireSize("convolution state", cpu(state), (long) (kernel - 1) * channels);
        requireSize("convolution output", cpu(out), (long) tokens * channels);
        CpuHybridOps.causalConvSilu(cpu(x), tokens, channels, cpu(weight), kernel, cpu(state), cpu(out));
    }

    @Override
    public void deltaNetGates(DeviceBuffer alpha, DeviceBuffer beta, DeviceBuffer dtBias, DeviceBuffer a, int tokens,
            int heads) {
        requireSize("DeltaNet alpha", cpu(alpha), (long) tokens * heads);
        requireSize("DeltaNet beta", cpu(beta), (long) tokens * heads);
        requireSize("DeltaNet dt bias", cpu(dtBias), heads);
        requireSize("DeltaNet A", cpu(a), heads);
        CpuHybridOps.deltaNetGates(cpu(alpha), cpu(beta), cpu(dtBias), cpu(a), tokens, heads);
    }

    @Override
    public void deltaNet(DeviceBuffer qkv, DeviceBuffer g, DeviceBuffer beta, int tokens, DeltaNetShape shape,
            DeviceBuffer state, DeviceBuffer out) {
        CpuBuffer in = cpu(qkv);
        CpuBuffer gb = cpu(g);
        CpuBuffer bb = cpu(beta);
        CpuBuffer sb = cpu(state);
        CpuBuffer ob = cpu(out);
        requireSize("DeltaNet qkv", in, (long) tokens * shape.channels());
        requireSize("DeltaNet decay", gb, (long) tokens * shape.valueHeads());
        requireSize("DeltaNet beta", bb, (long) tokens * shape.valueHeads());
        requireSize("DeltaNet state", sb, shape.stateSize());
        requireSize("DeltaNet output", ob, (long) tokens * shape.valueWidth());
        CpuDeltaNet.run(pool, deltaRuleKernel, in.data, in.offset, gb.data, gb.offset, bb.data, bb.offset, tokens, shape, sb.data,
                sb.offset, ob.data, ob.offset, tokens == 1 ? 1 : CpuDeltaNet.CHUNK);
    }

    @Override
    public void rmsNormGated(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer z, int rows, int dim, float eps,
            DeviceBuffer out) {
        requireSize("gated rmsNorm input", cpu(x), (long) rows * dim);
        requireSize("gated rmsNorm weight", cpu(weight), dim);
        requireSize("gated rmsNorm gate", cpu(z), (long) rows * dim);
        requireSize("gated rmsNorm output", cpu(out), (long) rows * dim);
        CpuHybridOps.rmsNormGated(cpu(x), cpu(weight), cpu(z), rows, dim, eps, cpu(out));
    }

    @Override
    public void close() {
        pool.close();
    }

    // ---- helpers

    private int rowGrain(int rowLength) {
        return Math.max(1, PARALLEL_MIN_ELEMENTS / Math.max(1, rowLength));
    }

    private int elementGrain(int n) {
        return pool.grain(n, PARALLEL_MIN_ELEMENTS);
    }

    /**
     * Floats to binary16, as every op does, through the pool: the conversion loop is then compiled
     * in its own lambda. Inlined into a caller (the KV cache's store of keys, then of values), the
     * second conversion ran out of C2's inlining budget and its vectors were boxed: about 20 MB of
     * garbage per decode step of 8 sequences.
     */
    private void toHalf(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        pool.forRange(n, elementGrain(n),
                (from, to) -> attentionKernel.floatToHalf(src, srcOffset + from, dst, dstOffset + from, to - from));
    }

    /** Binary16 to floats through the pool, for the reason {@link #toHalf} gives. */
    private void toFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        pool.forRange(n, elementGrain(n),
                (from, to) -> attentionKernel.halfToFloat(src, srcOffset + from, dst, dstOffset + from, to - from));
    }

    /** A copy with a q8_0 side: blocks as they are between two q8_0 buffers, else (de)quantized; not from or to f16. */
    private void copyQ8(DeviceBuffer src, DeviceBuffer dst) {
        if (src instanceof CpuQ8Buffer s && dst instanceof CpuQ8Buffer d) {
            System.arraycopy(s.quants, s.offset, d.quants, d.offset, s.size());
            System.arraycopy(s.scales, s.offset / CpuQ8Buffer.BLOCK, d.scales, d.offset / CpuQ8Buffer.BLOCK,
                    s.size() / CpuQ8Buffer.BLOCK);
        } else if (src instanceof CpuQ8Buffer s && dst instanceof CpuBuffer d) {
            dequantize(s, d.data, d.offset);
        } else if (src instanceof CpuBuffer s && dst instanceof CpuQ8Buffer d) {
            quantize(s.data, s.offset, d, s.size());
        } else {
            throw new IllegalArgumentException("cannot copy " + src + " to " + dst + ": q8_0 buffers copy to and from"
                    + " q8_0 and f32 buffers of the CPU backend only");
        }
    }

    /**
     * Floats into the first {@code n} elements of {@code dst}, through the pool in whole blocks
     * (a prefill stores millions of keys and values).
     */
    private void quantize(float[] src, int srcOffset, CpuQ8Buffer dst, int n) {
        if (n % CpuQ8Buffer.BLOCK != 0) {
            throw new IllegalArgumentException("cannot store " + n + " floats in " + dst
                    + ": q8_0 takes whole blocks of " + CpuQ8Buffer.BLOCK);
        }
        int blocks = n / CpuQ8Buffer.BLOCK;
        pool.forRange(blocks, pool.grain(blocks, PARALLEL_MIN_ELEMENTS / CpuQ8Buffer.BLOCK), (from, to) -> Q8Blocks
                .quantize(src, srcOffset + from * CpuQ8Buffer.BLOCK, dst.quants, dst.scales,
                        dst.offset + from * CpuQ8Buffer.BLOCK, (to - from) * CpuQ8Buffer.BLOCK));
    }

    /** Every element of {@code src} as floats into {@code dst[dstOffset ..]}, through the pool in whole blocks. */
    private void dequantize(CpuQ8Buffer src, float[] dst, int dstOffset) {
        int blocks = src.size() / CpuQ8Buffer.BLOCK;
        pool.forRange(blocks, pool.grain(blocks, PARALLEL_MIN_ELEMENTS / CpuQ8Buffer.BLOCK),
                (from, to) -> attentionKernel.q8ToFloat(src.quants, src.scales, src.offset + from * CpuQ8Buffer.BLOCK,
                        dst, dstOffset + from * CpuQ8Buffer.BLOCK, (to - from) * CpuQ8Buffer.BLOCK));
    }

    /** The attention kernel this backend runs (vector or scalar), shared with its PFlash ops. */
    AttentionKernel attentionKernel() {
        return attentionKernel;
    }

    private static CpuBuffer cpu(DeviceBuffer b) {
        if (b instanceof CpuBuffer c) {
            return c;
        }
        if (b instanceof CpuHalfBuffer || b instanceof CpuQ8Buffer) {
            throw new IllegalArgumentException("buffer " + b + " is " + b.type().label()
                    + "; only copy, read, write and attention take it");
        }
        throw new IllegalArgumentException("buffer " + b + " does not belong to the CPU backend");
    }

    static void requireElements(String what, DeviceBuffer b, long needed) {
        if (b.size() < needed) {
            throw new IllegalArgumentException(what + ": buffer of " + b.size() + " elements, needs " + needed);
        }
    }

    private static CpuWeightMatrix weights(WeightMatrix w) {
        if (w instanceof CpuWeightMatrix c) {
            return c;
        }
        throw new IllegalArgumentException("weight matrix " + w + " does not belong to the CPU backend");
    }

    private static void requireSize(String what, CpuBuffer b, long needed) {
        if (b.size() < needed) {
            throw new IllegalArgumentException(what + ": buffer of " + b.size() + " floats, needs " + needed);
        }
    }
}
