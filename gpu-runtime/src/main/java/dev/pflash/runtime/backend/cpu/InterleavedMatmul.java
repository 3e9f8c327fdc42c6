package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.cpu.CpuScratch.Slot;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matmul of fewer than {@link VectorMatmul#PANEL_TOKENS} tokens on {@link InterleavedWeights}:
 * lanes over rows. For each k one load widens quant k of a group's {@link InterleavedWeights#GROUP}
 * rows, and the sub-block's scales and mins turn it into the weights ({@link #lanes}); each token's
 * {@code x[k]}, broadcast, is multiplied into that token's accumulator. Each output is thus one
 * chain of fused multiply-adds over {@code k = 0, 1, 2, ...}, the same chain as in a token's lane
 * of the prefill panels: on these weights a token gets the same bits in a call of any size, decode
 * steps and prefill chunks alike.
 *
 * <p>No lane sums, and the weights are read straight from the repacked quants, where the row
 * kernels on the file's layout copy each row's bytes, dequantize them and run 4 x 4 tiles. Measured
 * on one AVX-512 core through {@code CpuBackend.matmul} (3072 x 1024, 200 calls), Q8_0: 1 token
 * 15-17 GMAC/s against 7.8, 2 tokens 30-32 against 12, 4 tokens 43-45 against 14, 8 tokens 58-68
 * against 19-23; Q4_K 14, 24, 35 and 51, Q6_K 17, 31, 44 and 58 (8 tokens 19-20 before). Each
 * kernel reuses a widened weight vector for every token it holds and a broadcast activation for
 * every group: 2 groups x 8 tokens, 4 x 4 for a quant per byte and 2 x 4 for nibbles, 4 x 2 and
 * 4 x 1 (16, 16 or 8, 8 and 4 accumulators).
 *
 * <p>Work is cut in units of {@link InterleavedWeights#UNIT_GROUPS} groups. The tokens go
 * through each unit 8 at a time; the last 1-7 as 1, 2 or 4 tokens, or as 8 with zero tokens
 * added. The k loops go by spans of {@link InterleavedWeights#SPAN} values, the smallest sub-block
 * (Q6_K's), each span loading its sub-block's scales; inside a span {@code j} counts from 0 to
 * the constant {@code SPAN} and {@code k} is derived. Written as a loop from {@code b*32} to
 * {@code (b+1)*32}, or to a sub-block size read from the weights, C2 kept the accumulators as
 * objects (1.2 GMAC/s, gigabytes of garbage a second).
 */
final class InterleavedMatmul {
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int G = InterleavedWeights.GROUP;
    private static final int UNIT = InterleavedWeights.UNIT_GROUPS;
    private static final int UNIT_ROWS = UNIT * G;
    private static final int SPAN = InterleavedWeights.SPAN;

    private InterleavedMatmul() {
    }

    static void multiply(CpuThreadPool pool, ThreadLocal<CpuScratch> scratch, InterleavedWeights w, float[] x,
            int xOff, int tokens, float[] y, int yOff) {
        int units = w.groups() / UNIT;
        int cols = w.cols();
        // Eight chunks per thread, not four: a 1024-row matrix is 16 units, and two-unit chunks
        // left one thread idle for the last of them at the end of every decode matmul.
        int grain = Math.max(1, units / (8 * pool.threads()));
        pool.forRange(units, grain, (from, to) -> {
            CpuScratch s = scratch.get();
            float[] out = s.vector(Slot.PANEL_OUTPUT, 8 * UNIT_ROWS);
            float[] padded = s.vector(Slot.TOKEN_PANELS, 8 * cols);
            float[][] room = s.matrix(Slot.UNIT_SCALES, 2 * UNIT, w.subBlocks() * G);
            float[][] scales = s.references(2 * UNIT);
            for (int u = from; u < to; u++) {
                int g0 = u * UNIT;
                for (int i = 0; i < UNIT; i++) {
                    scales[i] = w.scales(g0 + i, room[i]);
                    scales[UNIT + i] = w.negMins(g0 + i, room[UNIT + i]);
                }
                for (int t0 = 0; t0 < tokens; t0 += 8) {
                    int n = Math.min(8, tokens - t0);
                    int xAt = xOff + t0 * cols;
                    int width = n <= 2 ? n : n <= 4 ? 4 : 8;
                    float[] xs = x;
                    int xsAt = xAt;
                    if (width != n) {
                        System.arraycopy(x, xAt, padded, 0, n * cols);
                        Arrays.fill(padded, n * cols, width * cols, 0f);
                        xs = padded;
                        xsAt = 0;
                    }
                    switch (width) {
                        case 1 -> oneToken(w, g0, scales, xs, xsAt, out);
                        case 2 -> twoTokens(w, g0, scales, xs, xsAt, cols, out);
                        case 4 -> {
                            if (w.nibbles()) {
                                fourTokens(w, g0, g0, scales, xs, xsAt, cols, out);
                                fourTokens(w, g0 + 2, g0, scales, xs, xsAt, cols, out);
                            } else {
                                fourTokensOfBytes(w, g0, scales, xs, xsAt, cols, out);
                            }
                        }
                        default -> {
                            if (w.nibbles()) {
                                eightTokens(w, g0, g0, scales, xs, xsAt, cols, out);
                                eightTokens(w, g0 + 2, g0, scales, xs, xsAt, cols, out);
                            } else {
                                eightTokensOfBytes(w, g0, g0, scales, xs, xsAt, cols, out);
                                eightTokensOfBytes(w, g0 + 2, g0, scales, xs, xsAt, cols, out);
                            }
                        }
                    }
                    unpack(out, n, g0 * G, w.rows(), y, yOff + t0 * w.rows());
                }
            }
        });
    }

    /**
     * Weight k of a group's rows from its quants at {@code at}: the bytes widened to ints (a byte
     * each: {@code mask} -1), or shifted right by {@code bits} and masked (the low or high nibble:
     * 0 or 4, and 15), times the sub-block's scales {@code d}, plus minus its mins {@code negMin},
     * in one rounding. Cutting the nibble out of the bytes before widening them (their ints
     * reinterpreted, shifted and masked as bytes) was faster in decode alone but 40% slower after
     * a prefill, with boxed vectors (likely: the prefill's one-token calls, the Q6_K output head,
     * compile this with only the byte path hot); measure any change here with decode after a
     * prefill in the same JVM. With both paths hot (Q4_K_M), a
     * four-token kernel over the unit's four groups outgrew C2's inlining budget and ran with its
     * vectors boxed (8.5 GMAC/s against 47), so {@link #fourTokens} takes two groups.
     */
    private static FloatVector lanes(byte[] q, int at, int bits, int mask, FloatVector d, FloatVector negMin) {
        IntVector v = (IntVector) ByteVector.fromArray(B, q, at).convertShape(VectorOperators.B2I, I, 0);
        if (mask != -1) {
            v = v.lanewise(VectorOperators.LSHR, bits).and(mask);
        }
        return ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(d, negMin);
    }

    /** As {@link #lanes} for a quant per byte: no shift, no mask, so a kernel of byte types alone stays small. */
    private static FloatVector byteLanes(byte[] q, int at, FloatVector d, FloatVector negMin) {
        IntVector v = (IntVector) ByteVector.fromArray(B, q, at).convertShape(VectorOperators.B2I, I, 0);
        return ((FloatVector) v.convert(VectorOperators.I2F, 0)).fma(d, negMin);
    }

    /** Outputs {@code out[t*UNIT_ROWS + i]} of the unit's rows from {@code row0}, those that exist, into {@code y}. */
    private static void unpack(float[] out, int tokens, int row0, int rows, float[] y, int yAt) {
        int n = Math.min(UNIT_ROWS, rows - row0);
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(out, t * UNIT_ROWS, y, yAt + t * rows + row0, n);
        }
    }

    /** One token, the unit's 4 groups from {@code g0}, into {@code out[i]}. */
    private static void oneToken(InterleavedWeights w, int g0, float[][] scales, float[] x, int xAt, float[] out) {
        byte[] q0 = w.quants(g0);
        byte[] q1 = w.quants(g0 + 1);
        byte[] q2 = w.quants(g0 + 2);
        byte[] q3 = w.quants(g0 + 3);
        float[] s0 = scales[0];
        float[] ns0 = scales[UNIT + 0];
        float[] s1 = scales[1];
        float[] ns1 = scales[UNIT + 1];
        float[] s2 = scales[2];
        float[] ns2 = scales[UNIT + 2];
        float[] s3 = scales[3];
        float[] ns3 = scales[UNIT + 3];
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        int spans = w.cols() / SPAN;
        int shift = w.spanShift();
        for (int h = 0; h < spans; h++) {
            int b = h >> shift;
            int at = w.spanAt(h);
            int bits = w.spanBits(h);
            int mask = w.spanMask(h);
            FloatVector d0 = FloatVector.fromArray(F, s0, b * G);
            FloatVector m0 = FloatVector.fromArray(F, ns0, b * G);
            FloatVector d1 = FloatVector.fromArray(F, s1, b * G);
            FloatVector m1 = FloatVector.fromArray(F, ns1, b * G);
            FloatVector d2 = FloatVector.fromArray(F, s2, b * G);
            FloatVector m2 = FloatVector.fromArray(F, ns2, b * G);
            FloatVector d3 = FloatVector.fromArray(F, s3, b * G);
            FloatVector m3 = FloatVector.fromArray(F, ns3, b * G);
            for (int j = 0; j < SPAN; j++) {
                int k = h * SPAN + j;
                FloatVector v = FloatVector.broadcast(F, x[xAt + k]);
                a0 = lanes(q0, at + j * G, bits, mask, d0, m0).fma(v, a0);
                a1 = lanes(q1, at + j * G, bits, mask, d1, m1).fma(v, a1);
                a2 = lanes(q2, at + j * G, bits, mask, d2, m2).fma(v, a2);
                a3 = lanes(q3, at + j * G, bits, mask, d3, m3).fma(v, a3);
            }
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, G);
        a2.intoArray(out, 2 * G);
        a3.intoArray(out, 3 * G);
    }

    /** Two tokens {@code cols} apart, the unit's 4 groups, into {@code out[t*UNIT_ROWS + i]}. */
    private static void twoTokens(InterleavedWeights w, int g0, float[][] scales, float[] x, int xAt, int cols,
            float[] out) {
        byte[] q0 = w.quants(g0);
        byte[] q1 = w.quants(g0 + 1);
        byte[] q2 = w.quants(g0 + 2);
        byte[] q3 = w.quants(g0 + 3);
        float[] s0 = scales[0];
        float[] ns0 = scales[UNIT + 0];
        float[] s1 = scales[1];
        float[] ns1 = scales[UNIT + 1];
        float[] s2 = scales[2];
        float[] ns2 = scales[UNIT + 2];
        float[] s3 = scales[3];
        float[] ns3 = scales[UNIT + 3];
        int x1 = xAt + cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        int spans = w.cols() / SPAN;
        int shift = w.spanShift();
        for (int h = 0; h < spans; h++) {
            int b = h >> shift;
            int at = w.spanAt(h);
            int bits = w.spanBits(h);
            int mask = w.spanMask(h);
            FloatVector d0 = FloatVector.fromArray(F, s0, b * G);
            FloatVector m0 = FloatVector.fromArray(F, ns0, b * G);
            FloatVector d1 = FloatVector.fromArray(F, s1, b * G);
            FloatVector m1 = FloatVector.fromArray(F, ns1, b * G);
            FloatVector d2 = FloatVector.fromArray(F, s2, b * G);
            FloatVector m2 = FloatVector.fromArray(F, ns2, b * G);
            FloatVector d3 = FloatVector.fromArray(F, s3, b * G);
            FloatVector m3 = FloatVector.fromArray(F, ns3, b * G);
            for (int j = 0; j < SPAN; j++) {
                int k = h * SPAN + j;
                FloatVector u = FloatVector.broadcast(F, x[xAt + k]);
                FloatVector v = FloatVector.broadcast(F, x[x1 + k]);
                FloatVector c = lanes(q0, at + j * G, bits, mask, d0, m0);
                a0 = c.fma(u, a0);
                b0 = c.fma(v, b0);
                c = lanes(q1, at + j * G, bits, mask, d1, m1);
                a1 = c.fma(u, a1);
                b1 = c.fma(v, b1);
                c = lanes(q2, at + j * G, bits, mask, d2, m2);
                a2 = c.fma(u, a2);
                b2 = c.fma(v, b2);
                c = lanes(q3, at + j * G, bits, mask, d3, m3);
                a3 = c.fma(u, a3);
                b3 = c.fma(v, b3);
            }
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, G);
        a2.intoArray(out, 2 * G);
        a3.intoArray(out, 3 * G);
        b0.intoArray(out, UNIT_ROWS);
        b1.intoArray(out, UNIT_ROWS + G);
        b2.intoArray(out, UNIT_ROWS + 2 * G);
        b3.intoArray(out, UNIT_ROWS + 3 * G);
    }

    /**
     * Four tokens {@code cols} apart, groups {@code g} and {@code g + 1} of the unit from {@code g0},
     * into {@code out[t*UNIT_ROWS + i]}. Two groups, not the unit's four: with 16 accumulators and
     * four weight vectors per k this method outgrew C2's node budget for inlining, and the vector
     * code left out ran boxed (8.5 GMAC/s against 47).
     */
    private static void fourTokens(InterleavedWeights w, int g, int g0, float[][] scales, float[] x, int xAt,
            int cols, float[] out) {
        byte[] q = w.quants(g);
        byte[] p = w.quants(g + 1);
        float[] s = scales[g - g0];
        float[] ns = scales[UNIT + g - g0];
        float[] sp = scales[g - g0 + 1];
        float[] nsp = scales[UNIT + g - g0 + 1];
        int x1 = xAt + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        int spans = w.cols() / SPAN;
        int shift = w.spanShift();
        for (int h = 0; h < spans; h++) {
            int b = h >> shift;
            int at = w.spanAt(h);
            int bits = w.spanBits(h);
            int mask = w.spanMask(h);
            FloatVector d = FloatVector.fromArray(F, s, b * G);
            FloatVector md = FloatVector.fromArray(F, ns, b * G);
            FloatVector e = FloatVector.fromArray(F, sp, b * G);
            FloatVector me = FloatVector.fromArray(F, nsp, b * G);
            for (int j = 0; j < SPAN; j++) {
                int k = h * SPAN + j;
                FloatVector c = lanes(q, at + j * G, bits, mask, d, md);
                FloatVector f = lanes(p, at + j * G, bits, mask, e, me);
                FloatVector v = FloatVector.broadcast(F, x[xAt + k]);
                a0 = c.fma(v, a0);
                b0 = f.fma(v, b0);
                v = FloatVector.broadcast(F, x[x1 + k]);
                a1 = c.fma(v, a1);
                b1 = f.fma(v, b1);
                v = FloatVector.broadcast(F, x[x2 + k]);
                a2 = c.fma(v, a2);
                b2 = f.fma(v, b2);
                v = FloatVector.broadcast(F, x[x3 + k]);
                a3 = c.fma(v, a3);
                b3 = f.fma(v, b3);
            }
        }
        int at = (g - g0) * G;
        a0.intoArray(out, at);
        a1.intoArray(out, UNIT_ROWS + at);
        a2.intoArray(out, 2 * UNIT_ROWS + at);
        a3.intoArray(out, 3 * UNIT_ROWS + at);
        at += G;
        b0.intoArray(out, at);
        b1.intoArray(out, UNIT_ROWS + at);
        b2.intoArray(out, 2 * UNIT_ROWS + at);
        b3.intoArray(out, 3 * UNIT_ROWS + at);
    }

    /**
     * Four tokens {@code cols} apart, the unit's 4 groups, of a type with a quant per byte, into
     * {@code out[t*UNIT_ROWS + i]}: each widened weight vector serves the four tokens and each
     * broadcast activation the four groups (16 accumulators). On {@link #byteLanes}, without the
     * nibble path, this stays within C2's inlining budget; two groups at a time (as
     * {@link #fourTokens} must go for nibbles) ran Q8_0's four-sequence decode at 49-55 tok/s
     * against 66-70.
     */
    private static void fourTokensOfBytes(InterleavedWeights w, int g0, float[][] scales, float[] x, int xAt,
            int cols, float[] out) {
        byte[] q0 = w.quants(g0);
        byte[] q1 = w.quants(g0 + 1);
        byte[] q2 = w.quants(g0 + 2);
        byte[] q3 = w.quants(g0 + 3);
        float[] s0 = scales[0];
        float[] ns0 = scales[UNIT + 0];
        float[] s1 = scales[1];
        float[] ns1 = scales[UNIT + 1];
        float[] s2 = scales[2];
        float[] ns2 = scales[UNIT + 2];
        float[] s3 = scales[3];
        float[] ns3 = scales[UNIT + 3];
        int x1 = xAt + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector c0 = FloatVector.zero(F);
        FloatVector c1 = FloatVector.zero(F);
        FloatVector c2 = FloatVector.zero(F);
        FloatVector c3 = FloatVector.zero(F);
        FloatVector e0 = FloatVector.zero(F);
        FloatVector e1 = FloatVector.zero(F);
        FloatVector e2 = FloatVector.zero(F);
        FloatVector e3 = FloatVector.zero(F);
        int spans = w.cols() / SPAN;
        int shift = w.spanShift();
        for (int h = 0; h < spans; h++) {
            int b = h >> shift;
            int at = h * SPAN * G;
            FloatVector d0 = FloatVector.fromArray(F, s0, b * G);
            FloatVector m0 = FloatVector.fromArray(F, ns0, b * G);
            FloatVector d1 = FloatVector.fromArray(F, s1, b * G);
            FloatVector m1 = FloatVector.fromArray(F, ns1, b * G);
            FloatVector d2 = FloatVector.fromArray(F, s2, b * G);
            FloatVector m2 = FloatVector.fromArray(F, ns2, b * G);
            FloatVector d3 = FloatVector.fromArray(F, s3, b * G);
            FloatVector m3 = FloatVector.fromArray(F, ns3, b * G);
            for (int j = 0; j < SPAN; j++) {
                int k = h * SPAN + j;
                FloatVector w0 = byteLanes(q0, at + j * G, d0, m0);
                FloatVector w1 = byteLanes(q1, at + j * G, d1, m1);
                FloatVector w2 = byteLanes(q2, at + j * G, d2, m2);
                FloatVector w3 = byteLanes(q3, at + j * G, d3, m3);
                FloatVector v = FloatVector.broadcast(F, x[xAt + k]);
                a0 = w0.fma(v, a0);
                b0 = w1.fma(v, b0);
                c0 = w2.fma(v, c0);
                e0 = w3.fma(v, e0);
                v = FloatVector.broadcast(F, x[x1 + k]);
                a1 = w0.fma(v, a1);
                b1 = w1.fma(v, b1);
                c1 = w2.fma(v, c1);
                e1 = w3.fma(v, e1);
                v = FloatVector.broadcast(F, x[x2 + k]);
                a2 = w0.fma(v, a2);
                b2 = w1.fma(v, b2);
                c2 = w2.fma(v, c2);
                e2 = w3.fma(v, e2);
                v = FloatVector.broadcast(F, x[x3 + k]);
                a3 = w0.fma(v, a3);
                b3 = w1.fma(v, b3);
                c3 = w2.fma(v, c3);
                e3 = w3.fma(v, e3);
            }
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, UNIT_ROWS);
        a2.intoArray(out, 2 * UNIT_ROWS);
        a3.intoArray(out, 3 * UNIT_ROWS);
        b0.intoArray(out, G);
        b1.intoArray(out, UNIT_ROWS + G);
        b2.intoArray(out, 2 * UNIT_ROWS + G);
        b3.intoArray(out, 3 * UNIT_ROWS + G);
        c0.intoArray(out, 2 * G);
        c1.intoArray(out, UNIT_ROWS + 2 * G);
        c2.intoArray(out, 2 * UNIT_ROWS + 2 * G);
        c3.intoArray(out, 3 * UNIT_ROWS + 2 * G);
        e0.intoArray(out, 3 * G);
        e1.intoArray(out, UNIT_ROWS + 3 * G);
        e2.intoArray(out, 2 * UNIT_ROWS + 3 * G);
        e3.intoArray(out, 3 * UNIT_ROWS + 3 * G);
    }

    /**
     * Eight tokens {@code cols} apart, groups {@code g} and {@code g + 1} of the unit from {@code g0},
     * into {@code out[t*UNIT_ROWS + i]}.
     */
    private static void eightTokens(InterleavedWeights w, int g, int g0, float[][] scales, float[] x, int xAt, int cols,
            float[] out) {
        byte[] q = w.quants(g);
        byte[] p = w.quants(g + 1);
        float[] s = scales[g - g0];
        float[] ns = scales[UNIT + g - g0];
        float[] sp = scales[g - g0 + 1];
        float[] nsp = scales[UNIT + g - g0 + 1];
        int x1 = xAt + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        int x4 = x3 + cols;
        int x5 = x4 + cols;
        int x6 = x5 + cols;
        int x7 = x6 + cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F);
        FloatVector b5 = FloatVector.zero(F);
        FloatVector b6 = FloatVector.zero(F);
        FloatVector b7 = FloatVector.zero(F);
        int spans = w.cols() / SPAN;
        int shift = w.spanShift();
        for (int h = 0; h < spans; h++) {
            int b = h >> shift;
            int at = w.spanAt(h);
            int bits = w.spanBits(h);
            int mask = w.spanMask(h);
            FloatVector d = FloatVector.fromArray(F, s, b * G);
            FloatVector md = FloatVector.fromArray(F, ns, b * G);
            FloatVector e = FloatVector.fromArray(F, sp, b * G);
            FloatVector me = FloatVector.fromArray(F, nsp, b * G);
            for (int j = 0; j < SPAN; j++) {
                int k = h * SPAN + j;
                FloatVector c = lanes(q, at + j * G, bits, mask, d, md);
                FloatVector f = lanes(p, at + j * G, bits, mask, e, me);
                FloatVector v = FloatVector.broadcast(F, x[xAt + k]);
                a0 = c.fma(v, a0);
                b0 = f.fma(v, b0);
                v = FloatVector.broadcast(F, x[x1 + k]);
                a1 = c.fma(v, a1);
                b1 = f.fma(v, b1);
                v = FloatVector.broadcast(F, x[x2 + k]);
                a2 = c.fma(v, a2);
                b2 = f.fma(v, b2);
                v = FloatVector.broadcast(F, x[x3 + k]);
                a3 = c.fma(v, a3);
                b3 = f.fma(v, b3);
                v = FloatVector.broadcast(F, x[x4 + k]);
                a4 = c.fma(v, a4);
                b4 = f.fma(v, b4);
                v = FloatVector.broadcast(F, x[x5 + k]);
                a5 = c.fma(v, a5);
                b5 = f.fma(v, b5);
                v = FloatVector.broadcast(F, x[x6 + k]);
                a6 = c.fma(v, a6);
                b6 = f.fma(v, b6);
                v = FloatVector.broadcast(F, x[x7 + k]);
                a7 = c.fma(v, a7);
                b7 = f.fma(v, b7);
            }
        }
        int at = (g - g0) * G;
        a0.intoArray(out, at);
        a1.intoArray(out, UNIT_ROWS + at);
        a2.intoArray(out, 2 * UNIT_ROWS + at);
        a3.intoArray(out, 3 * UNIT_ROWS + at);
        a4.intoArray(out, 4 * UNIT_ROWS + at);
        a5.intoArray(out, 5 * UNIT_ROWS + at);
        a6.intoArray(out, 6 * UNIT_ROWS + at);
        a7.intoArray(out, 7 * UNIT_ROWS + at);
        at += G;
        b0.intoArray(out, at);
        b1.intoArray(out, UNIT_ROWS + at);
        b2.intoArray(out, 2 * UNIT_ROWS + at);
        b3.intoArray(out, 3 * UNIT_ROWS + at);
        b4.intoArray(out, 4 * UNIT_ROWS + at);
        b5.intoArray(out, 5 * UNIT_ROWS + at);
        b6.intoArray(out, 6 * UNIT_ROWS + at);
        b7.intoArray(out, 7 * UNIT_ROWS + at);
    }

    /**
     * {@link #eightTokens} of a type with a quant per byte, on {@link #byteLanes}. One kernel for
     * both kinds, with the nibble path and the byte path both hot (Q4_K_M: Q4_K and Q6_K), could
     * outgrow C2's inlining budget and run with its vectors boxed on the heap: after a prefill in
     * the same JVM, JFR found 460 MB of boxed vectors allocated in it in the last 35 s of a Q4_K_M
     * eight-sequence run, and none once the kernels were split.
     */
    private static void eightTokensOfBytes(InterleavedWeights w, int g, int g0, float[][] scales, float[] x, int xAt,
            int cols, float[] out) {
        byte[] q = w.quants(g);
        byte[] p = w.quants(g + 1);
        float[] s = scales[g - g0];
        float[] ns = scales[UNIT + g - g0];
        float[] sp = scales[g - g0 + 1];
        float[] nsp = scales[UNIT + g - g0 + 1];
        int x1 = xAt + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        int x4 = x3 + cols;
        int x5 = x4 + cols;
        int x6 = x5 + cols;
        int x7 = x6 + cols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F);
        FloatVector a7 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F);
        FloatVector b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F);
        FloatVector b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F);
        FloatVector b5 = FloatVector.zero(F);
        FloatVector b6 = FloatVector.zero(F);
        FloatVector b7 = FloatVector.zero(F);
        int spans = w.cols() / SPAN;
        int shift = w.spanShift();
        for (int h = 0; h < spans; h++) {
            int b = h >> shift;
            int at = w.spanAt(h);
            FloatVector d = FloatVector.fromArray(F, s, b * G);
            FloatVector md = FloatVector.fromArray(F, ns, b * G);
            FloatVector e = FloatVector.fromArray(F, sp, b * G);
            FloatVector me = FloatVector.fromArray(F, nsp, b * G);
            for (int j = 0; j < SPAN; j++) {
                int k = h * SPAN + j;
                FloatVector c = byteLanes(q, at + j * G, d, md);
                FloatVector f = byteLanes(p, at + j * G, e, me);
                FloatVector v = FloatVector.broadcast(F, x[xAt + k]);
                a0 = c.fma(v, a0);
                b0 = f.fma(v, b0);
                v = FloatVector.broadcast(F, x[x1 + k]);
                a1 = c.fma(v, a1);
                b1 = f.fma(v, b1);
                v = FloatVector.broadcast(F, x[x2 + k]);
                a2 = c.fma(v, a2);
                b2 = f.fma(v, b2);
                v = FloatVector.broadcast(F, x[x3 + k]);
                a3 = c.fma(v, a3);
                b3 = f.fma(v, b3);
                v = FloatVector.broadcast(F, x[x4 + k]);
                a4 = c.fma(v, a4);
                b4 = f.fma(v, b4);
                v = FloatVector.broadcast(F, x[x5 + k]);
                a5 = c.fma(v, a5);
                b5 = f.fma(v, b5);
                v = FloatVector.broadcast(F, x[x6 + k]);
                a6 = c.fma(v, a6);
                b6 = f.fma(v, b6);
                v = FloatVector.broadcast(F, x[x7 + k]);
                a7 = c.fma(v, a7);
                b7 = f.fma(v, b7);
            }
        }
        int at = (g - g0) * G;
        a0.intoArray(out, at);
        a1.intoArray(out, UNIT_ROWS + at);
        a2.intoArray(out, 2 * UNIT_ROWS + at);
        a3.intoArray(out, 3 * UNIT_ROWS + at);
        a4.intoArray(out, 4 * UNIT_ROWS + at);
        a5.intoArray(out, 5 * UNIT_ROWS + at);
        a6.intoArray(out, 6 * UNIT_ROWS + at);
        a7.intoArray(out, 7 * UNIT_ROWS + at);
        at += G;
        b0.intoArray(out, at);
        b1.intoArray(out, UNIT_ROWS + at);
        b2.intoArray(out, 2 * UNIT_ROWS + at);
        b3.intoArray(out, 3 * UNIT_ROWS + at);
        b4.intoArray(out, 4 * UNIT_ROWS + at);
        b5.intoArray(out, 5 * UNIT_ROWS + at);
        b6.intoArray(out, 6 * UNIT_ROWS + at);
        b7.intoArray(out, 7 * UNIT_ROWS + at);
    }
}
