package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.cpu.CpuScratch.Slot;
import dev.pflash.runtime.gguf.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matmul on the Vector API, with float activations. Two ways to sum an output {@code y[t][o]}:
 * <ul>
 *   <li>calls of fewer than {@link #PANEL_TOKENS} tokens (decode steps, short chunks): one chain of
 *       fused multiply-adds per lane over {@code i = 0, L, 2L, ...} (L = {@link #LANES}), then the
 *       lanes summed in lane order ({@link #laneSum}), then the {@code cols % L} tail products in
 *       order;</li>
 *   <li>calls of {@link #PANEL_TOKENS} tokens or more (prefill): one chain of fused multiply-adds
 *       over {@code i = 0, 1, 2, ...} in the token's lane of a panel ({@link #multiplyPanels}).</li>
 * </ul>
 * Every kernel of a kind computes each (row, token) output exactly its kind's way, whatever tile
 * or panel it belongs to, so a token gets the same bits among any tokens of the same kind of call:
 * prompts give the same logits in one chunk, in chunks of at least a panel or packed, and decode
 * steps the same alone or packed with fewer than a panel of others. Across the kinds the values
 * agree within float rounding ({@link CpuBackend#PANEL_TOKENS}). Quantized matrices repacked on
 * the heap ({@link InterleavedWeights}) have one kind: below a panel {@link InterleavedMatmul}
 * puts rows in the lanes and sums each output in the panels' order.
 *
 * <p>Five ways to the weights:
 * <ul>
 *   <li>fewer than {@link #PANEL_TOKENS} tokens on a repacked matrix (Q8_0, Q4_0, Q4_K, Q5_K,
 *       Q6_K): {@link InterleavedMatmul}, straight from the repacked quants;</li>
 *   <li>up to {@link #DIRECT_MAX_TOKENS} tokens (decode steps) on Q8_0 weights left in the file's
 *       layout (no heap to repack them): each block's
 *       quants are loaded as bytes (rows copied to a heap array first), widened to floats and
 *       scaled by the block's scale (exactly the dequantized value: an f16 times an 8-bit integer
 *       fits a float), four rows by two tokens at a time;</li>
 *   <li>one token on Q4_K, Q5_K or Q6_K weights left in the file's layout
 *       ({@link VectorKQuantMatVec}): four rows dequantized a block at a time into a buffer that
 *       stays in the L1 cache;</li>
 *   <li>{@link #PANEL_TOKENS} tokens or more: {@link #ROW_BLOCK} rows dequantized into a float
 *       scratch, then applied to panels of tokens packed lane by lane ({@link #multiplyPanels});</li>
 *   <li>otherwise: {@link #ROW_BLOCK} rows are dequantized into a float scratch
 *       ({@link VectorDequantize} for every type but F32, whose rows the reference code reads),
 *       then swept over the tokens (in slices of {@link #TOKEN_BLOCK_BYTES} of activations) in
 *       register tiles of 4 rows x {@link #TILE_TOKENS} tokens:
 *       each weight vector loaded serves every token of the tile, each activation vector 4 rows.
 *       With 512-bit vectors (32 registers on AVX-512) tiles are 4 x 4: 16 accumulators, half a
 *       load per fused multiply-add. With 256-bit vectors (16 registers on AVX2) 4 x 4 tiles
 *       spill accumulators to the stack, which puts a store and a reload in every accumulator's
 *       dependency chain, so tiles are 4 x 3: 12 accumulators, 3 activations and 1 weight.</li>
 * </ul>
 *
 * <p>The sweeps of the 4 x 3 and 4 x 2 tiles step by {@link #sweepStep}, a value the JIT
 * cannot prove constant:
 * C2 unrolls a loop whose stride is a constant and then issues the loads of all unrolled
 * iterations before their multiply-adds, which again needs more registers than AVX2 has (a
 * 4 x 3 tile ran at 29-31 GFLOP/s per core that way and at 35-37 without unrolling, measured on
 * an AVX2 core with JMH-style loops). The price is one bounds check per load. The one-token tiles
 * keep a constant step: their 4 accumulators and 5 loads fit twice unrolled, and there unrolling
 * wins (18-22 against 13-19 GFLOP/s). The 4 x 4 tile, which only runs with 32 vector registers,
 * keeps a constant step too: with the unknown step C2 compiled its loop with 8 bounds checks,
 * index offsets reloaded from the stack and 22 register-to-register copies of accumulators per 16
 * multiply-adds; with the constant step the loop is its 8 loads, their index additions and the
 * 16 multiply-adds (read from the compiled code), and prefill of 512 tokens ran 3-9% faster.</p>
 *
 * <p>Why float activations and not llama.cpp's int8 ones: the Java 17 Vector API has no int8 dot
 * product instruction (no VNNI, no pmaddubsw), so an int8 product costs widening both operands to
 * shorts, a multiply and widening to ints. Measured on one AVX-512 core, a 1024x1024 Q8_0 mat-vec
 * took 72-84 us with float activations and 86-105 us with int8 ones (activations rounded to Q8_0
 * blocks, included); for prefill the float path does one FMA per product on weights dequantized
 * once per row block for the whole chunk, which int8 products cannot beat.
 *
 * <p>Loaded only when {@link VectorSupport#useVectorKernels()} says so.
 */
final class VectorMatmul {
    /** The preferred float species, at most 512 bits: a Q8_0 block of 32 is a whole number of vectors. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() > 512
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    /** Bytes loaded per float vector: L quants. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * 8));
    /** Rows dequantized together; their floats stay in L2 while all tokens pass over them. */
    static final int ROW_BLOCK = 16;
    /** Up to this many tokens (decode steps), Q8_0 weights are widened per use, not dequantized up front. */
    static final int DIRECT_MAX_TOKENS = 4;
    /**
     * Bytes of activations one sweep of a row block reads: a prompt's tokens go through each row
     * block in slices of about this size, so that the slice stays in the cache for every row
     * block instead of streaming from memory once per row block. Each slice dequantizes the row
     * block again, which costs little next to the slice's multiply-adds.
     */
    static final int TOKEN_BLOCK_BYTES = 1 << 21;
    /** Tokens per register tile: as many as the vector register file holds accumulators for. */
    static final int TILE_TOKENS = LANES >= 16 ? 4 : 3;
    /** Tokens per panel; from this many tokens on a call runs on panels ({@link CpuBackend#PANEL_TOKENS}). */
    static final int PANEL_TOKENS = CpuBackend.PANEL_TOKENS;
    private static final int Q8_BLOCK = 32;
    private static final int Q8_BYTES = 34;
    /**
     * The step of every sweep over a row, always {@link #LANES}; not final on purpose, so that C2
     * compiles the sweeps as loops of unknown stride, which it does not unroll (see the class comment).
     */
    private static int sweepStep = LANES;

    private VectorMatmul() {
    }

    /** Whether this CPU's vectors are wide enough for these kernels (a byte vector is at least 64 bits). */
    static boolean supported() {
        return LANES >= 8;
    }

    static String describe() {
        return F.vectorBitSize() + "-bit float vectors (" + LANES + " lanes), float activations";
    }

    /**
     * The sum of the lanes of {@code v}, lane 0 first. The API leaves the order of a float
     * reduction open; Java 17 adds the lanes in order both in its Java code (interpreter, C1) and
     * in C2's x86 and AArch64 code, so a kernel gives the same bits before and after it is
     * compiled. {@code VectorMatmulTest} checks that this holds on the JVM at hand.
     */
    static float laneSum(FloatVector v) {
        return v.reduceLanes(VectorOperators.ADD);
    }

    static void multiply(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        InterleavedWeights interleaved = w.interleaved();
        if (interleaved != null && tokens < PANEL_TOKENS) {
            InterleavedMatmul.multiply(pool, scratch, interleaved, x, xOff, tokens, y, yOff);
        } else if (tokens <= DIRECT_MAX_TOKENS && w.type() == GgmlType.Q8_0) {
            multiplyQ8Direct(pool, scratch, w, x, xOff, tokens, y, yOff);
        } else if (tokens == 1 && VectorKQuantMatVec.handles(w.type())) {
            VectorKQuantMatVec.multiply(pool, scratch, w, x, xOff, y, yOff);
        } else if (tokens >= PANEL_TOKENS) {
            multiplyPanels(pool, scratch, w, x, xOff, tokens, y, yOff);
        } else {
            multiplyDequantized(pool, scratch, w, x, xOff, tokens, y, yOff);
        }
    }

    // ---- a few tokens, Q8_0 weights

    private static void multiplyQ8Direct(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        int rows = w.rows();
        int cols = w.cols();
        int blocks = cols / Q8_BLOCK;
        int rowBytes = blocks * Q8_BYTES;
        int grain = (pool.grain(rows, 16) + 3) / 4 * 4;
        pool.forRange(rows, grain, (from, to) -> {
            byte[] q = scratch.get().bytes(4 * rowBytes);
            int o = from;
            for (; o + 4 <= to; o += 4) {
                for (int r = 0; r < 4; r++) {
                    copyRow(w, o + r, q, r * rowBytes, rowBytes);
                }
                int t = 0;
                for (; t + 2 <= tokens; t += 2) {
                    q8FourRowsTwoTokens(q, rowBytes, blocks, x, xOff + t * cols, cols, y, yOff + t * rows + o, rows);
                }
                for (; t < tokens; t++) {
                    q8FourRows(q, rowBytes, blocks, x, xOff + t * cols, y, yOff + t * rows + o);
                }
            }
            for (; o < to; o++) {
                copyRow(w, o, q, 0, rowBytes);
                for (int t = 0; t < tokens; t++) {
                    y[yOff + t * rows + o] = q8OneRow(q, 0, blocks, x, xOff + t * cols);
                }
            }
        });
    }

    /**
     * As {@link #q8FourRows} for two tokens, {@code cols} apart in {@code x}, into
     * {@code y[yAt + t*rows + r]}: each widened weight vector serves both.
     */
    private static void q8FourRowsTwoTokens(byte[] q, int rowBytes, int blocks, float[] x, int xOff, int cols,
            float[] y, int yAt, int rows) {
        int p0 = 0;
        int p1 = rowBytes;
        int p2 = 2 * rowBytes;
        int p3 = 3 * rowBytes;
        int x1 = xOff + cols;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a21 = FloatVector.zero(F);
        FloatVector a31 = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++, p0 += Q8_BYTES, p1 += Q8_BYTES, p2 += Q8_BYTES, p3 += Q8_BYTES) {
            FloatVector d0 = scale(q, p0);
            FloatVector d1 = scale(q, p1);
            FloatVector d2 = scale(q, p2);
            FloatVector d3 = scale(q, p3);
            for (int j = 0; j < Q8_BLOCK; j += LANES) {
                FloatVector v0 = FloatVector.fromArray(F, x, xOff + k * Q8_BLOCK + j);
                FloatVector v1 = FloatVector.fromArray(F, x, x1 + k * Q8_BLOCK + j);
                FloatVector w0 = q8Lanes(q, p0 + 2 + j, d0);
                a00 = w0.fma(v0, a00);
                a01 = w0.fma(v1, a01);
                FloatVector w1 = q8Lanes(q, p1 + 2 + j, d1);
                a10 = w1.fma(v0, a10);
                a11 = w1.fma(v1, a11);
                FloatVector w2 = q8Lanes(q, p2 + 2 + j, d2);
                a20 = w2.fma(v0, a20);
                a21 = w2.fma(v1, a21);
                FloatVector w3 = q8Lanes(q, p3 + 2 + j, d3);
                a30 = w3.fma(v0, a30);
                a31 = w3.fma(v1, a31);
            }
        }
        y[yAt] = laneSum(a00);
        y[yAt + 1] = laneSum(a10);
        y[yAt + 2] = laneSum(a20);
        y[yAt + 3] = laneSum(a30);
        y[yAt + rows] = laneSum(a01);
        y[yAt + rows + 1] = laneSum(a11);
        y[yAt + rows + 2] = laneSum(a21);
        y[yAt + rows + 3] = laneSum(a31);
    }

    /**
     * Copies a row's bytes to a heap array: the Vector API of Java 17 loads bytes from an array
     * about twice as fast as from a (memory-mapped) buffer, and the copy is a plain memcpy.
     */
    private static void copyRow(CpuWeightMatrix w, int row, byte[] dst, int at, int rowBytes) {
        w.buffer(row).get(w.offset(row), dst, at, rowBytes);
    }

    /** Four Q8_0 rows, {@code rowBytes} apart in {@code q} from 0, times one token into {@code y[yAt .. yAt + 4)}. */
    private static void q8FourRows(byte[] q, int rowBytes, int blocks, float[] x, int xOff, float[] y, int yAt) {
        int p0 = 0;
        int p1 = rowBytes;
        int p2 = 2 * rowBytes;
        int p3 = 3 * rowBytes;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++, p0 += Q8_BYTES, p1 += Q8_BYTES, p2 += Q8_BYTES, p3 += Q8_BYTES) {
            FloatVector d0 = scale(q, p0);
            FloatVector d1 = scale(q, p1);
            FloatVector d2 = scale(q, p2);
            FloatVector d3 = scale(q, p3);
            for (int j = 0; j < Q8_BLOCK; j += LANES) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + k * Q8_BLOCK + j);
                a0 = q8Lanes(q, p0 + 2 + j, d0).fma(xv, a0);
                a1 = q8Lanes(q, p1 + 2 + j, d1).fma(xv, a1);
                a2 = q8Lanes(q, p2 + 2 + j, d2).fma(xv, a2);
                a3 = q8Lanes(q, p3 + 2 + j, d3).fma(xv, a3);
            }
        }
        y[yAt] = laneSum(a0);
        y[yAt + 1] = laneSum(a1);
        y[yAt + 2] = laneSum(a2);
        y[yAt + 3] = laneSum(a3);
    }

    private static float q8OneRow(byte[] q, int p, int blocks, float[] x, int xOff) {
        FloatVector a = FloatVector.zero(F);
        for (int k = 0; k < blocks; k++, p += Q8_BYTES) {
            FloatVector d = scale(q, p);
            for (int j = 0; j < Q8_BLOCK; j += LANES) {
                a = q8Lanes(q, p + 2 + j, d).fma(FloatVector.fromArray(F, x, xOff + k * Q8_BLOCK + j), a);
            }
        }
        return laneSum(a);
    }

    /**
     * The f16 block scale at byte {@code at}, in every lane. Broadcast once per block: C2 does not
     * hoist the broadcast of a {@code mul(float)} out of the block's loop, and a broadcast per
     * vector cost a tenth of the decode mat-vec's throughput (measured on AVX2, streaming 640 MB).
     */
    private static FloatVector scale(byte[] q, int at) {
        return FloatVector.broadcast(F, VectorDequantize.f16(q, at));
    }

    /** {@link #LANES} quants from byte {@code at}, as floats times the block scale {@code d}. */
    private static FloatVector q8Lanes(byte[] q, int at, FloatVector d) {
        return VectorDequantize.widen(ByteVector.fromArray(B, q, at)).mul(d);
    }

    // ---- many tokens: rows dequantized once per slice of token panels, lanes over tokens

    /**
     * The tokens are packed into panels of {@link #PANEL_TOKENS}, {@code xp[k*P + j]} holding
     * element k of the panel's token j (zeros past the last token), and each output is one chain of
     * fused multiply-adds over {@code k = 0, 1, 2, ...} in one lane: the weight broadcast, the
     * panel's two vectors of tokens loaded. No lane sums, and each broadcast serves 2 vectors of
     * tokens, so per 16 multiply-adds the kernel loads 2 vectors and 8 floats where a 4 x 4 tile
     * loads 8 vectors (half of them from L2 once a row no longer fits L1). A token's lane does not
     * depend on the others, so it gets the same bits in any panel, at any place in it, and in any
     * call of {@link #PANEL_TOKENS} tokens or more; against the tiles (fewer tokens) the sums
     * associate differently, within float rounding. JMH {@code CpuMatmul}, 64 tokens, one thread,
     * 1024x3072 and 3072x1024 Q8_0 and Q4_K: 3.1-3.4 ms against 4.4-5.5 ms with the 4 x 4 tiles
     * on 512-bit vectors; 5.0-6.4 against 6.2-7.0 ms on 256-bit ones.
     */
    private static void multiplyPanels(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        int rows = w.rows();
        int cols = w.cols();
        int panels = (tokens + PANEL_TOKENS - 1) / PANEL_TOKENS;
        int panelFloats = PANEL_TOKENS * cols;
        float[] xp = scratch.get().vector(Slot.TOKEN_PANELS, panels * panelFloats);
        pool.forRange(panels, 1, (from, to) -> {
            for (int q = from; q < to; q++) {
                packPanel(x, xOff, tokens, cols, q, xp);
            }
        });
        int grain = (pool.grain(rows, ROW_BLOCK) + ROW_BLOCK - 1) / ROW_BLOCK * ROW_BLOCK;
        int panelBlock = Math.max(1, TOKEN_BLOCK_BYTES / (Float.BYTES * panelFloats));
        pool.forRange(rows, grain, (from, to) -> {
            CpuScratch s = scratch.get();
            float[] wr = s.vector(Slot.WEIGHT_BLOCK, ROW_BLOCK * cols);
            float[] out = s.vector(Slot.PANEL_OUTPUT, 8 * PANEL_TOKENS);
            for (int q0 = 0; q0 < panels; q0 += panelBlock) {
                int q1 = Math.min(panels, q0 + panelBlock);
                for (int o0 = from; o0 < to; o0 += ROW_BLOCK) {
                    int n = Math.min(ROW_BLOCK, to - o0);
                    for (int r = 0; r < n; r++) {
                        dequantizeRow(s, w, o0 + r, wr, r * cols);
                    }
                    for (int q = q0; q < q1; q++) {
                        int t0 = q * PANEL_TOKENS;
                        panelRows(wr, n, cols, xp, q * panelFloats, out, Math.min(PANEL_TOKENS, tokens - t0), y,
                                yOff + t0 * rows + o0, rows);
                    }
                }
            }
        });
    }

    /**
     * The {@code n} dequantized rows of {@code wr} times the panel at {@code xp[pAt ..]}, its first
     * {@code width} tokens into {@code y[yAt + j*rows + r]}: 8 rows at a time on 512-bit vectors, then 4, then 1.
     */
    private static void panelRows(float[] wr, int n, int cols, float[] xp, int pAt, float[] out, int width,
            float[] y, int yAt, int rows) {
        int r = 0;
        if (LANES >= 16) {
            for (; r + 8 <= n; r += 8) {
                panel8(wr, r * cols, cols, xp, pAt, out);
                unpackOutputs(out, 8, width, y, yAt + r, rows);
            }
        }
        for (; r + 4 <= n; r += 4) {
            for (int h = 0; h < PANEL_TOKENS; h += 2 * LANES) {
                panel4(wr, r * cols, cols, xp, pAt + h, out, h);
            }
            unpackOutputs(out, 4, width, y, yAt + r, rows);
        }
        for (; r < n; r++) {
            for (int h = 0; h < PANEL_TOKENS; h += 2 * LANES) {
                panel1(wr, r * cols, cols, xp, pAt + h, out, h);
            }
            unpackOutputs(out, 1, width, y, yAt + r, rows);
        }
    }

    /** Panel {@code q} of the tokens into {@code xp}: element k of its token j at {@code k*P + j}. */
    private static void packPanel(float[] x, int xOff, int tokens, int cols, int q, float[] xp) {
        int t0 = q * PANEL_TOKENS;
        int width = Math.min(PANEL_TOKENS, tokens - t0);
        int base = q * PANEL_TOKENS * cols;
        for (int k = 0; k < cols; k++) {
            int at = base + k * PANEL_TOKENS;
            int from = xOff + t0 * cols + k;
            for (int j = 0; j < width; j++) {
                xp[at + j] = x[from + j * cols];
            }
            for (int j = width; j < PANEL_TOKENS; j++) {
                xp[at + j] = 0f;
            }
        }
    }

    /** Outputs {@code out[r*P + j]} of {@code n} rows into {@code y[yAt + j*rows + r]} for the panel's tokens. */
    private static void unpackOutputs(float[] out, int n, int width, float[] y, int yAt, int rows) {
        for (int j = 0; j < width; j++) {
            for (int r = 0; r < n; r++) {
                y[yAt + j * rows + r] = out[r * PANEL_TOKENS + j];
            }
        }
    }

    /**
     * Rows {@code w[wAt + r*cols ..]} (r < 8) times the 2 vectors of tokens at {@code xp[pAt + k*P ..]}
     * (a whole panel with 512-bit vectors) into {@code out[r*P ..]}.
     */
    private static void panel8(float[] w, int wAt, int cols, float[] xp, int pAt, float[] out) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector b5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector b6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector b7 = FloatVector.zero(F);
        int w1 = wAt + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int w4 = w3 + cols;
        int w5 = w4 + cols;
        int w6 = w5 + cols;
        int w7 = w6 + cols;
        for (int k = 0; k < cols; k++) {
            int p = pAt + k * PANEL_TOKENS;
            FloatVector u = FloatVector.fromArray(F, xp, p);
            FloatVector v = FloatVector.fromArray(F, xp, p + LANES);
            FloatVector c = FloatVector.broadcast(F, w[wAt + k]);
            a0 = c.fma(u, a0);
            b0 = c.fma(v, b0);
            c = FloatVector.broadcast(F, w[w1 + k]);
            a1 = c.fma(u, a1);
            b1 = c.fma(v, b1);
            c = FloatVector.broadcast(F, w[w2 + k]);
            a2 = c.fma(u, a2);
            b2 = c.fma(v, b2);
            c = FloatVector.broadcast(F, w[w3 + k]);
            a3 = c.fma(u, a3);
            b3 = c.fma(v, b3);
            c = FloatVector.broadcast(F, w[w4 + k]);
            a4 = c.fma(u, a4);
            b4 = c.fma(v, b4);
            c = FloatVector.broadcast(F, w[w5 + k]);
            a5 = c.fma(u, a5);
            b5 = c.fma(v, b5);
            c = FloatVector.broadcast(F, w[w6 + k]);
            a6 = c.fma(u, a6);
            b6 = c.fma(v, b6);
            c = FloatVector.broadcast(F, w[w7 + k]);
            a7 = c.fma(u, a7);
            b7 = c.fma(v, b7);
        }
        a0.intoArray(out, 0);
        b0.intoArray(out, LANES);
        a1.intoArray(out, PANEL_TOKENS);
        b1.intoArray(out, PANEL_TOKENS + LANES);
        a2.intoArray(out, 2 * PANEL_TOKENS);
        b2.intoArray(out, 2 * PANEL_TOKENS + LANES);
        a3.intoArray(out, 3 * PANEL_TOKENS);
        b3.intoArray(out, 3 * PANEL_TOKENS + LANES);
        a4.intoArray(out, 4 * PANEL_TOKENS);
        b4.intoArray(out, 4 * PANEL_TOKENS + LANES);
        a5.intoArray(out, 5 * PANEL_TOKENS);
        b5.intoArray(out, 5 * PANEL_TOKENS + LANES);
        a6.intoArray(out, 6 * PANEL_TOKENS);
        b6.intoArray(out, 6 * PANEL_TOKENS + LANES);
        a7.intoArray(out, 7 * PANEL_TOKENS);
        b7.intoArray(out, 7 * PANEL_TOKENS + LANES);
    }

    /** As {@link #panel8} for 4 rows, into {@code out[r*P + h ..]}: half a panel with 256-bit vectors. */
    private static void panel4(float[] w, int wAt, int cols, float[] xp, int pAt, float[] out, int h) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        int w1 = wAt + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        for (int k = 0; k < cols; k++) {
            int p = pAt + k * PANEL_TOKENS;
            FloatVector u = FloatVector.fromArray(F, xp, p);
            FloatVector v = FloatVector.fromArray(F, xp, p + LANES);
            FloatVector c = FloatVector.broadcast(F, w[wAt + k]);
            a0 = c.fma(u, a0);
            b0 = c.fma(v, b0);
            c = FloatVector.broadcast(F, w[w1 + k]);
            a1 = c.fma(u, a1);
            b1 = c.fma(v, b1);
            c = FloatVector.broadcast(F, w[w2 + k]);
            a2 = c.fma(u, a2);
            b2 = c.fma(v, b2);
            c = FloatVector.broadcast(F, w[w3 + k]);
            a3 = c.fma(u, a3);
            b3 = c.fma(v, b3);
        }
        a0.intoArray(out, h);
        b0.intoArray(out, h + LANES);
        a1.intoArray(out, h + PANEL_TOKENS);
        b1.intoArray(out, h + PANEL_TOKENS + LANES);
        a2.intoArray(out, h + 2 * PANEL_TOKENS);
        b2.intoArray(out, h + 2 * PANEL_TOKENS + LANES);
        a3.intoArray(out, h + 3 * PANEL_TOKENS);
        b3.intoArray(out, h + 3 * PANEL_TOKENS + LANES);
    }

    /** As {@link #panel4} for one row. */
    private static void panel1(float[] w, int wAt, int cols, float[] xp, int pAt, float[] out, int h) {
        FloatVector a = FloatVector.zero(F);
        FloatVector b = FloatVector.zero(F);
        for (int k = 0; k < cols; k++) {
            int p = pAt + k * PANEL_TOKENS;
            FloatVector c = FloatVector.broadcast(F, w[wAt + k]);
            a = c.fma(FloatVector.fromArray(F, xp, p), a);
            b = c.fma(FloatVector.fromArray(F, xp, p + LANES), b);
        }
        a.intoArray(out, h);
        b.intoArray(out, h + LANES);
    }

    // ---- fewer tokens than a panel, any type: rows dequantized once per call, tiles of 4 rows x 4 tokens
    // (the last 1-3 tokens in pairs, then one)

    private static void multiplyDequantized(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, CpuWeightMatrix w,
            float[] x, int xOff, int tokens, float[] y, int yOff) {
        int rows = w.rows();
        int cols = w.cols();
        int grain = (pool.grain(rows, ROW_BLOCK) + ROW_BLOCK - 1) / ROW_BLOCK * ROW_BLOCK;
        int tokenBlock = Math.max(4 * TILE_TOKENS, TOKEN_BLOCK_BYTES / (Float.BYTES * cols));
        pool.forRange(rows, grain, (from, to) -> {
            CpuScratch s = scratch.get();
            float[] wr = s.vector(Slot.WEIGHT_BLOCK, ROW_BLOCK * cols);
            for (int t0 = 0; t0 < tokens; t0 += tokenBlock) {
                int t1 = Math.min(tokens, t0 + tokenBlock);
                for (int o0 = from; o0 < to; o0 += ROW_BLOCK) {
                    int n = Math.min(ROW_BLOCK, to - o0);
                    for (int r = 0; r < n; r++) {
                        dequantizeRow(s, w, o0 + r, wr, r * cols);
                    }
                    sweepTokens(wr, n, cols, x, xOff, t0, t1, y, yOff + o0, rows);
                }
            }
        });
    }

    /** The {@code n} dequantized rows of {@code wr} times tokens {@code t0 .. t1} into {@code y[yAt + t*rows + r]}. */
    private static void sweepTokens(float[] wr, int n, int cols, float[] x, int xOff, int t0, int t1, float[] y,
            int yAt, int rows) {
        int t = t0;
        if (TILE_TOKENS == 4) {
            for (; t + 4 <= t1; t += 4) {
                int r = 0;
                for (; r + 4 <= n; r += 4) {
                    tile4x4(wr, r * cols, cols, x, xOff + t * cols, y, yAt + t * rows + r, rows);
                }
                rowsLeft(wr, r, n, cols, x, xOff + t * cols, 4, y, yAt + t * rows, rows);
            }
        } else {
            for (; t + 3 <= t1; t += 3) {
                int r = 0;
                for (; r + 4 <= n; r += 4) {
                    tile4x3(wr, r * cols, cols, x, xOff + t * cols, y, yAt + t * rows + r, rows);
                }
                rowsLeft(wr, r, n, cols, x, xOff + t * cols, 3, y, yAt + t * rows, rows);
            }
        }
        for (; t + 2 <= t1; t += 2) {
            int r = 0;
            for (; r + 4 <= n; r += 4) {
                tile4x2(wr, r * cols, cols, x, xOff + t * cols, y, yAt + t * rows + r, rows);
            }
            rowsLeft(wr, r, n, cols, x, xOff + t * cols, 2, y, yAt + t * rows, rows);
        }
        if (t < t1) {
            int r = 0;
            for (; r + 4 <= n; r += 4) {
                tile4x1(wr, r * cols, cols, x, xOff + t * cols, y, yAt + t * rows + r);
            }
            rowsLeft(wr, r, n, cols, x, xOff + t * cols, 1, y, yAt + t * rows, rows);
        }
    }

    /** Rows {@code r .. n} of the block (fewer than 4) times {@code width} tokens, one output at a time. */
    private static void rowsLeft(float[] wr, int r, int n, int cols, float[] x, int xAt, int width, float[] y,
            int yAt, int rows) {
        for (; r < n; r++) {
            for (int u = 0; u < width; u++) {
                y[yAt + u * rows + r] = tile1x1(wr, r * cols, cols, x, xAt + u * cols);
            }
        }
    }

    private static void dequantizeRow(CpuScratch s, CpuWeightMatrix w, int row, float[] dst, int at) {
        if (VectorDequantize.handles(w.type())) {
            VectorDequantize.row(s, w, row, dst, at);
        } else {
            w.dequantizeRow(row, dst, at);
        }
    }

    /**
     * Rows {@code w[wAt + r*cols ..]} (r < 4) times tokens {@code x[xAt + t*cols ..]} (t < 4) into
     * {@code y[yAt + t*rows + r]}.
     */
    private static void tile4x4(float[] w, int wAt, int cols, float[] x, int xAt, float[] y, int yAt, int rows) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F);
        FloatVector a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F);
        FloatVector a21 = FloatVector.zero(F);
        FloatVector a22 = FloatVector.zero(F);
        FloatVector a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F);
        FloatVector a31 = FloatVector.zero(F);
        FloatVector a32 = FloatVector.zero(F);
        FloatVector a33 = FloatVector.zero(F);
        int w1 = wAt + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int x1 = xAt + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += LANES) {
            FloatVector v0 = FloatVector.fromArray(F, x, xAt + i);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + i);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + i);
            FloatVector r0 = FloatVector.fromArray(F, w, wAt + i);
            a00 = r0.fma(v0, a00);
            a01 = r0.fma(v1, a01);
            a02 = r0.fma(v2, a02);
            a03 = r0.fma(v3, a03);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + i);
            a10 = r1.fma(v0, a10);
            a11 = r1.fma(v1, a11);
            a12 = r1.fma(v2, a12);
            a13 = r1.fma(v3, a13);
            FloatVector r2 = FloatVector.fromArray(F, w, w2 + i);
            a20 = r2.fma(v0, a20);
            a21 = r2.fma(v1, a21);
            a22 = r2.fma(v2, a22);
            a23 = r2.fma(v3, a23);
            FloatVector r3 = FloatVector.fromArray(F, w, w3 + i);
            a30 = r3.fma(v0, a30);
            a31 = r3.fma(v1, a31);
            a32 = r3.fma(v2, a32);
            a33 = r3.fma(v3, a33);
        }
        y[yAt] = finish(a00, w, wAt, x, xAt, bound, cols);
        y[yAt + 1] = finish(a10, w, w1, x, xAt, bound, cols);
        y[yAt + 2] = finish(a20, w, w2, x, xAt, bound, cols);
        y[yAt + 3] = finish(a30, w, w3, x, xAt, bound, cols);
        y[yAt + rows] = finish(a01, w, wAt, x, x1, bound, cols);
        y[yAt + rows + 1] = finish(a11, w, w1, x, x1, bound, cols);
        y[yAt + rows + 2] = finish(a21, w, w2, x, x1, bound, cols);
        y[yAt + rows + 3] = finish(a31, w, w3, x, x1, bound, cols);
        y[yAt + 2 * rows] = finish(a02, w, wAt, x, x2, bound, cols);
        y[yAt + 2 * rows + 1] = finish(a12, w, w1, x, x2, bound, cols);
        y[yAt + 2 * rows + 2] = finish(a22, w, w2, x, x2, bound, cols);
        y[yAt + 2 * rows + 3] = finish(a32, w, w3, x, x2, bound, cols);
        y[yAt + 3 * rows] = finish(a03, w, wAt, x, x3, bound, cols);
        y[yAt + 3 * rows + 1] = finish(a13, w, w1, x, x3, bound, cols);
        y[yAt + 3 * rows + 2] = finish(a23, w, w2, x, x3, bound, cols);
        y[yAt + 3 * rows + 3] = finish(a33, w, w3, x, x3, bound, cols);
    }

    /**
     * Rows {@code w[wAt + r*cols ..]} (r < 4) times tokens {@code x[xAt + t*cols ..]} (t < 3) into
     * {@code y[yAt + t*rows + r]}.
     */
    private static void tile4x3(float[] w, int wAt, int cols, float[] x, int xAt, float[] y, int yAt, int rows) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a02 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a12 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F);
        FloatVector a21 = FloatVector.zero(F);
        FloatVector a22 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F);
        FloatVector a31 = FloatVector.zero(F);
        FloatVector a32 = FloatVector.zero(F);
        int w1 = wAt + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int x1 = xAt + cols;
        int x2 = x1 + cols;
        int bound = F.loopBound(cols);
        int step = sweepStep;
        for (int i = 0; i < bound; i += step) {
            FloatVector v0 = FloatVector.fromArray(F, x, xAt + i);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + i);
            FloatVector r0 = FloatVector.fromArray(F, w, wAt + i);
            a00 = r0.fma(v0, a00);
            a01 = r0.fma(v1, a01);
            a02 = r0.fma(v2, a02);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + i);
            a10 = r1.fma(v0, a10);
            a11 = r1.fma(v1, a11);
            a12 = r1.fma(v2, a12);
            FloatVector r2 = FloatVector.fromArray(F, w, w2 + i);
            a20 = r2.fma(v0, a20);
            a21 = r2.fma(v1, a21);
            a22 = r2.fma(v2, a22);
            FloatVector r3 = FloatVector.fromArray(F, w, w3 + i);
            a30 = r3.fma(v0, a30);
            a31 = r3.fma(v1, a31);
            a32 = r3.fma(v2, a32);
        }
        y[yAt] = finish(a00, w, wAt, x, xAt, bound, cols);
        y[yAt + 1] = finish(a10, w, w1, x, xAt, bound, cols);
        y[yAt + 2] = finish(a20, w, w2, x, xAt, bound, cols);
        y[yAt + 3] = finish(a30, w, w3, x, xAt, bound, cols);
        y[yAt + rows] = finish(a01, w, wAt, x, x1, bound, cols);
        y[yAt + rows + 1] = finish(a11, w, w1, x, x1, bound, cols);
        y[yAt + rows + 2] = finish(a21, w, w2, x, x1, bound, cols);
        y[yAt + rows + 3] = finish(a31, w, w3, x, x1, bound, cols);
        y[yAt + 2 * rows] = finish(a02, w, wAt, x, x2, bound, cols);
        y[yAt + 2 * rows + 1] = finish(a12, w, w1, x, x2, bound, cols);
        y[yAt + 2 * rows + 2] = finish(a22, w, w2, x, x2, bound, cols);
        y[yAt + 2 * rows + 3] = finish(a32, w, w3, x, x2, bound, cols);
    }

    /**
     * Rows {@code w[wAt + r*cols ..]} (r < 4) times tokens {@code x[xAt + t*cols ..]} (t < 2) into
     * {@code y[yAt + t*rows + r]}.
     */
    private static void tile4x2(float[] w, int wAt, int cols, float[] x, int xAt, float[] y, int yAt, int rows) {
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F);
        FloatVector a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F);
        FloatVector a21 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F);
        FloatVector a31 = FloatVector.zero(F);
        int w1 = wAt + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int x1 = xAt + cols;
        int bound = F.loopBound(cols);
        int step = sweepStep;
        for (int i = 0; i < bound; i += step) {
            FloatVector v0 = FloatVector.fromArray(F, x, xAt + i);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + i);
            FloatVector r0 = FloatVector.fromArray(F, w, wAt + i);
            a00 = r0.fma(v0, a00);
            a01 = r0.fma(v1, a01);
            FloatVector r1 = FloatVector.fromArray(F, w, w1 + i);
            a10 = r1.fma(v0, a10);
            a11 = r1.fma(v1, a11);
            FloatVector r2 = FloatVector.fromArray(F, w, w2 + i);
            a20 = r2.fma(v0, a20);
            a21 = r2.fma(v1, a21);
            FloatVector r3 = FloatVector.fromArray(F, w, w3 + i);
            a30 = r3.fma(v0, a30);
            a31 = r3.fma(v1, a31);
        }
        y[yAt] = finish(a00, w, wAt, x, xAt, bound, cols);
        y[yAt + 1] = finish(a10, w, w1, x, xAt, bound, cols);
        y[yAt + 2] = finish(a20, w, w2, x, xAt, bound, cols);
        y[yAt + 3] = finish(a30, w, w3, x, xAt, bound, cols);
        y[yAt + rows] = finish(a01, w, wAt, x, x1, bound, cols);
        y[yAt + rows + 1] = finish(a11, w, w1, x, x1, bound, cols);
        y[yAt + rows + 2] = finish(a21, w, w2, x, x1, bound, cols);
        y[yAt + rows + 3] = finish(a31, w, w3, x, x1, bound, cols);
    }

    /** Rows {@code w[wAt + r*cols ..]} (r < 4) times one token {@code x[xAt ..]} into {@code y[yAt + r]}. */
    private static void tile4x1(float[] w, int wAt, int cols, float[] x, int xAt, float[] y, int yAt) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int w1 = wAt + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(F, x, xAt + i);
            a0 = FloatVector.fromArray(F, w, wAt + i).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, w1 + i).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, w2 + i).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, w3 + i).fma(v, a3);
        }
        y[yAt] = finish(a0, w, wAt, x, xAt, bound, cols);
        y[yAt + 1] = finish(a1, w, w1, x, xAt, bound, cols);
        y[yAt + 2] = finish(a2, w, w2, x, xAt, bound, cols);
        y[yAt + 3] = finish(a3, w, w3, x, xAt, bound, cols);
    }

    private static float tile1x1(float[] w, int wAt, int cols, float[] x, int xAt) {
        FloatVector a = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        for (int i = 0; i < bound; i += LANES) {
            a = FloatVector.fromArray(F, w, wAt + i).fma(FloatVector.fromArray(F, x, xAt + i), a);
        }
        return finish(a, w, wAt, x, xAt, bound, cols);
    }

    /** The lane sum of {@code acc}, then the products past the last whole vector, in order. */
    private static float finish(FloatVector acc, float[] w, int wAt, float[] x, int xAt, int bound, int cols) {
        float sum = laneSum(acc);
        for (int i = bound; i < cols; i++) {
            sum = Math.fma(w[wAt + i], x[xAt + i], sum);
        }
        return sum;
    }
}
