package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.gguf.Float16;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link AttentionKernel} on the Vector API. Scores are dot products over the head dims, one
 * vector accumulator per key, for two rows by four keys at a time (each query load serves four
 * keys, each key load two rows), taken four keys at a time for every row of the step so those
 * keys stay in the L1 cache. A score's lanes are summed from the scratch past the scores, where
 * its accumulator is stored ({@link #spilledSum}). A prefill tile or a drafter block, whose queries
 * come transposed, is scored with lanes over query rows instead ({@link #scoreRows}, 512-bit
 * vectors): the same operations per score in the same order, without the lane sums (JMH
 * {@code CpuAttention}, 64 queries, f16 cache, one thread: 8.3-8.6 to 6.0-6.5 ms at 512 keys,
 * 98-104 to 65-71 ms at 4096). The weighted values are accumulated for rows in
 * pairs (each value vector loaded serves both) over a slice of four output vectors at a time for
 * every row, so that slice of the values stays in the L1 cache. Dims past the last whole vector run
 * as scalars. Loaded only when {@link VectorSupport#useVectorKernels()} says so.
 */
final class VectorAttentionKernel implements AttentionKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Keys scored together, each query load serving all of them ({@link #dot4}). */
    private static final int KEY_BATCH = 4;
    /** From this many query rows on, a step given transposed queries scores them with {@link #scoreRows}. */
    private static final int ROW_PANEL_MIN_ROWS = 16;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    /**
     * Quants that widen to one float vector, or null where a float vector is narrower than 256 bits
     * or wider than a q8_0 block (those JVMs dequantize in scalar code).
     */
    private static final VectorSpecies<Byte> B = F.vectorBitSize() >= 256 && F.length() <= CpuQ8Buffer.BLOCK
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : null;
    private static final float EXP_MIN = -87.3f;
    private static final float LOG2_E = 1.44269504088896341f;
    private static final float ROUNDING = 0x1.8p23f;
    private static final int ROUNDING_BITS = Float.floatToRawIntBits(ROUNDING);
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    private static final float EXP_P0 = 1.9875691500E-4f;
    private static final float EXP_P1 = 1.3981999507E-3f;
    private static final float EXP_P2 = 8.3334519073E-3f;
    private static final float EXP_P3 = 4.1665795894E-2f;
    private static final float EXP_P4 = 1.6666665459E-1f;
    private static final float EXP_P5 = 5.0000001201E-1f;

    private VectorAttentionKernel() {
    }

    static VectorAttentionKernel create() {
        return new VectorAttentionKernel();
    }

    @Override
    public void step(float[] q, float[] qt, int[] last, int rows, int dim, SoftmaxState state, float[] scores,
            float[] k, int kBase, float[] v, int vBase, int stride, int j0, int n) {
        int upper = F.loopBound(dim);
        int scoreStride = AttentionKernel.scoreStride(n);
        // A batch of keys at a time for every row, so those keys stay in the L1 cache for all rows.
        int whole = n / KEY_BATCH * KEY_BATCH;
        // dot4, dot4x2 and scoreRows store their accumulators past the scores.
        int spill = rows * scoreStride;
        if (qt != null && F.length() >= 16 && rows >= ROW_PANEL_MIN_ROWS) {
            int padded = AttentionKernel.paddedRows(rows);
            for (int jj = 0; jj < whole; jj += KEY_BATCH) {
                int kb = kBase + jj * stride;
                for (int r0 = 0; r0 < rows; r0 += 2 * F.length()) {
                    int r1 = Math.min(rows, r0 + 2 * F.length());
                    boolean any = false;
                    for (int r = r0; r < r1; r++) {
                        any |= visible(last, r, j0, n) >= jj + KEY_BATCH;
                    }
                    if (any) {
                        scoreRows(qt, padded, r0, k, kb, stride, dim, upper, scores, spill);
                        keepRowScores(scores, spill, last, r0, r1, j0, n, jj, scoreStride);
                    }
                }
            }
        } else {
            scoreKeyBatches(q, last, rows, dim, scores, k, kBase, stride, j0, n, upper, scoreStride, whole, spill);
        }
        softmaxAndWeigh(q, last, rows, dim, state, scores, k, kBase, v, vBase, stride, j0, n, upper, scoreStride,
                whole);
    }

    /** The 4-key batches of scores, rows in pairs, each score a lane-parallel dot product and its lane sum. */
    private static void scoreKeyBatches(float[] q, int[] last, int rows, int dim, float[] scores, float[] k,
            int kBase, int stride, int j0, int n, int upper, int scoreStride, int whole, int spill) {
        for (int jj = 0; jj < whole; jj += KEY_BATCH) {
            int kb = kBase + jj * stride;
            int r = 0;
            for (; r + 1 < rows; r += 2) {
                boolean first = visible(last, r, j0, n) >= jj + KEY_BATCH;
                boolean second = visible(last, r + 1, j0, n) >= jj + KEY_BATCH;
                int at = r * scoreStride + jj;
                if (first && second) {
                    dot4x2(q, r * dim, k, kb, stride, dim, upper, scores, at, scoreStride, spill);
                } else if (first) {
                    dot4(q, r * dim, k, kb, stride, dim, upper, scores, at, spill);
                } else if (second) {
                    dot4(q, (r + 1) * dim, k, kb, stride, dim, upper, scores, at + scoreStride, spill);
                }
            }
            if (r < rows && visible(last, r, j0, n) >= jj + KEY_BATCH) {
                dot4(q, r * dim, k, kb, stride, dim, upper, scores, r * scoreStride + jj, spill);
            }
        }
    }

    /** The rest of a step once the 4-key batches are scored: each row's softmax, then the values it weighs. */
    private static void softmaxAndWeigh(float[] q, int[] last, int rows, int dim, SoftmaxState state,
            float[] scores, float[] k, int kBase, float[] v, int vBase, int stride, int j0, int n, int upper,
            int scoreStride, int whole) {
        for (int r = 0; r < rows; r++) {
            int visible = visible(last, r, j0, n);
            if (visible > 0) {
                softmax(q, r * dim, dim, upper, state, r, scores, r * scoreStride, k, kBase, stride,
                        Math.min(visible, whole) / KEY_BATCH * KEY_BATCH, visible);
            }
        }
        // Rows in pairs, each value vector loaded serving two rows, and a slice of output dims for
        // all rows before the next, so that slice of the values stays in the L1 cache. Neither
        // changes a sum: every output element adds its keys one after another, in key order.
        int slice = 4 * F.length();
        for (int d0 = 0; d0 < dim; d0 += slice) {
            int d1 = Math.min(dim, d0 + slice);
            int r = 0;
            for (; r + 1 < rows; r += 2) {
                int va = visible(last, r, j0, n);
                int vb = visible(last, r + 1, j0, n);
                int both = Math.min(va, vb);
                int pa = r * scoreStride;
                int pb = pa + scoreStride;
                weighValues2(state.out, r * dim, (r + 1) * dim, scores, pa, pb, v, vBase, stride, both, d0, d1, upper);
                weighValues(state.out, r * dim, scores, pa, v, vBase, stride, both, va, d0, d1, upper);
                weighValues(state.out, (r + 1) * dim, scores, pb, v, vBase, stride, both, vb, d0, d1, upper);
            }
            if (r < rows) {
                weighValues(state.out, r * dim, scores, r * scoreStride, v, vBase, stride, 0,
                        visible(last, r, j0, n), d0, d1, upper);
            }
        }
    }

    /**
     * The scores of 4 keys, {@code stride} apart from {@code kb}, for the 2 vectors of query rows from
     * {@code r0} of the transposed queries {@code qt} ({@code padded} rows per dim), into
     * {@code out[at ..]}: key {@code kk}'s rows {@code r0 + h*L ..} at {@code at + (2*kk + h)*L}.
     * Lanes hold query rows, so no lane is summed: the key's element is broadcast and the sum of
     * each residue {@code l} of the dims ({@code d = l, l + L, ...}) is one chain of multiply-adds,
     * added to the score once complete, residue 0 first, then the dims from {@code upper} on. Those
     * are the very operations of {@link #dot}: lane {@code l} of its accumulator, then its lane
     * sum in lane order, then the tail; so the bits do not depend on which kernel scored a key.
     * Per score: 8 multiply-adds at 128 dims and one add, where a lane sum costs 16 loads and 16
     * adds after the multiply-adds.
     */
    private static void scoreRows(float[] qt, int padded, int r0, float[] k, int kb, int stride, int dim, int upper,
            float[] out, int at) {
        int lanes = F.length();
        int b1 = kb + stride;
        int b2 = b1 + stride;
        int b3 = b2 + stride;
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector s4 = s0;
        FloatVector s5 = s0;
        FloatVector s6 = s0;
        FloatVector s7 = s0;
        for (int l = 0; l < Math.min(lanes, upper); l++) {
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            for (int d = l; d < upper; d += lanes) {
                int p = d * padded + r0;
                FloatVector u = FloatVector.fromArray(F, qt, p);
                FloatVector w = FloatVector.fromArray(F, qt, p + lanes);
                FloatVector c = FloatVector.broadcast(F, k[kb + d]);
                a0 = c.fma(u, a0);
                a1 = c.fma(w, a1);
                c = FloatVector.broadcast(F, k[b1 + d]);
                a2 = c.fma(u, a2);
                a3 = c.fma(w, a3);
                c = FloatVector.broadcast(F, k[b2 + d]);
                a4 = c.fma(u, a4);
                a5 = c.fma(w, a5);
                c = FloatVector.broadcast(F, k[b3 + d]);
                a6 = c.fma(u, a6);
                a7 = c.fma(w, a7);
            }
            s0 = s0.add(a0);
            s1 = s1.add(a1);
            s2 = s2.add(a2);
            s3 = s3.add(a3);
            s4 = s4.add(a4);
            s5 = s5.add(a5);
            s6 = s6.add(a6);
            s7 = s7.add(a7);
        }
        for (int d = upper; d < dim; d++) {
            int p = d * padded + r0;
            FloatVector u = FloatVector.fromArray(F, qt, p);
            FloatVector w = FloatVector.fromArray(F, qt, p + lanes);
            FloatVector c = FloatVector.broadcast(F, k[kb + d]);
            s0 = s0.add(u.mul(c));
            s1 = s1.add(w.mul(c));
            c = FloatVector.broadcast(F, k[b1 + d]);
            s2 = s2.add(u.mul(c));
            s3 = s3.add(w.mul(c));
            c = FloatVector.broadcast(F, k[b2 + d]);
            s4 = s4.add(u.mul(c));
            s5 = s5.add(w.mul(c));
            c = FloatVector.broadcast(F, k[b3 + d]);
            s6 = s6.add(u.mul(c));
            s7 = s7.add(w.mul(c));
        }
        s0.intoArray(out, at);
        s1.intoArray(out, at + lanes);
        s2.intoArray(out, at + 2 * lanes);
        s3.intoArray(out, at + 3 * lanes);
        s4.intoArray(out, at + 4 * lanes);
        s5.intoArray(out, at + 5 * lanes);
        s6.intoArray(out, at + 6 * lanes);
        s7.intoArray(out, at + 7 * lanes);
    }

    /**
     * The scores {@link #scoreRows} left at {@code scores[spill ..]} into the rows {@code r0 .. r1 - 1}
     * that see all 4 keys of the batch at {@code jj}, as {@link #dot4x2} would have stored them; the
     * other rows score those keys in {@link #softmax}.
     */
    private static void keepRowScores(float[] scores, int spill, int[] last, int r0, int r1, int j0, int n, int jj,
            int scoreStride) {
        int lanes = F.length();
        for (int r = r0; r < r1; r++) {
            if (visible(last, r, j0, n) >= jj + KEY_BATCH) {
                int at = r * scoreStride + jj;
                for (int kk = 0; kk < KEY_BATCH; kk++) {
                    scores[at + kk] = scores[spill + 2 * kk * lanes + (r - r0)];
                }
            }
        }
    }

    /** How many of keys {@code j0 .. j0 + n - 1} row {@code r} sees. */
    private static int visible(int[] last, int r, int j0, int n) {
        return Math.max(0, Math.min(n, last[r] + 1 - j0));
    }

    /**
     * Row {@code r}'s scores of keys {@code scored .. visible - 1} (the earlier ones are in
     * {@code scores[at ..]} already), turned into weights {@code exp(score - newMax)}; its max and
     * sum updated and its output rescaled to the new max.
     */
    private static void softmax(float[] q, int qo, int dim, int upper, SoftmaxState state, int r, float[] scores,
            int at, float[] k, int kBase, int stride, int scored, int visible) {
        int lanes = F.length();
        int jj;
        for (jj = scored; jj < visible; jj++) {
            scores[at + jj] = dot(q, qo, k, kBase + jj * stride, dim, upper);
        }
        // Padding past the visible keys with -inf lets whole vectors cover the scores: it never
        // wins the max and its exp is exactly 0, which adds nothing to the sum.
        int padded = (visible + lanes - 1) / lanes * lanes;
        Arrays.fill(scores, at + visible, at + padded, Float.NEGATIVE_INFINITY);
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (jj = 0; jj < padded; jj += lanes) {
            maxes = maxes.max(FloatVector.fromArray(F, scores, at + jj));
        }
        float oldMax = state.max[r];
        float newMax = Math.max(oldMax, maxes.reduceLanes(VectorOperators.MAX));
        // exp(-inf) = 0: a row that had seen nothing keeps nothing of its (empty) past.
        float alpha = (float) Math.exp(oldMax - newMax);
        FloatVector sums = FloatVector.zero(F);
        for (jj = 0; jj < padded; jj += lanes) {
            FloatVector p = exp(FloatVector.fromArray(F, scores, at + jj).sub(newMax));
            p.intoArray(scores, at + jj);
            sums = sums.add(p);
        }
        state.max[r] = newMax;
        state.sum[r] = state.sum[r] * alpha + sumLanes(sums);
        // A plain loop, which C2 vectorizes itself: as the Vector API's last store in this large
        // method, the rescale now and then failed to compile to an intrinsic and ran boxed.
        float[] out = state.out;
        for (int d = 0; d < dim; d++) {
            out[qo + d] *= alpha;
        }
    }

    /**
     * Adds the weighted values of keys {@code from .. to - 1} to dims {@code d0 ..} of the output
     * row at {@code o}, four output vectors at a time: four independent chains of fmas keep the FMA
     * units busy, and each element adds its keys one after another, in key order, as
     * {@link #weighValues2} does.
     */
    private static void weighValues(float[] out, int o, float[] p, int pa, float[] v, int vBase, int stride,
            int from, int to, int d0, int d1, int upper) {
        if (from >= to) {
            return;
        }
        int lanes = F.length();
        int vectors = Math.min(upper, d1);
        int d = d0;
        for (; d + 4 * lanes <= vectors; d += 4 * lanes) {
            int o0 = o + d;
            FloatVector acc0 = FloatVector.fromArray(F, out, o0);
            FloatVector acc1 = FloatVector.fromArray(F, out, o0 + lanes);
            FloatVector acc2 = FloatVector.fromArray(F, out, o0 + 2 * lanes);
            FloatVector acc3 = FloatVector.fromArray(F, out, o0 + 3 * lanes);
            for (int jj = from; jj < to; jj++) {
                FloatVector w = FloatVector.broadcast(F, p[pa + jj]);
                int vo = vBase + jj * stride + d;
                acc0 = FloatVector.fromArray(F, v, vo).fma(w, acc0);
                acc1 = FloatVector.fromArray(F, v, vo + lanes).fma(w, acc1);
                acc2 = FloatVector.fromArray(F, v, vo + 2 * lanes).fma(w, acc2);
                acc3 = FloatVector.fromArray(F, v, vo + 3 * lanes).fma(w, acc3);
            }
            acc0.intoArray(out, o0);
            acc1.intoArray(out, o0 + lanes);
            acc2.intoArray(out, o0 + 2 * lanes);
            acc3.intoArray(out, o0 + 3 * lanes);
        }
        for (; d < vectors; d += lanes) {
            FloatVector acc = FloatVector.fromArray(F, out, o + d);
            for (int jj = from; jj < to; jj++) {
                FloatVector w = FloatVector.broadcast(F, p[pa + jj]);
                acc = FloatVector.fromArray(F, v, vBase + jj * stride + d).fma(w, acc);
            }
            acc.intoArray(out, o + d);
        }
        for (; d < d1; d++) {
            float acc = out[o + d];
            for (int jj = from; jj < to; jj++) {
                acc += p[pa + jj] * v[vBase + jj * stride + d];
            }
            out[o + d] = acc;
        }
    }

    /** {@link #weighValues} of keys {@code 0 .. to - 1} for two rows at once, each value vector loaded once. */
    private static void weighValues2(float[] out, int oa, int ob, float[] p, int pa, int pb, float[] v, int vBase,
            int stride, int to, int d0, int d1, int upper) {
        if (to <= 0) {
            return;
        }
        int lanes = F.length();
        int d = d0;
        for (; d + 4 * lanes <= Math.min(upper, d1); d += 4 * lanes) {
            FloatVector a0 = FloatVector.fromArray(F, out, oa + d);
            FloatVector a1 = FloatVector.fromArray(F, out, oa + d + lanes);
            FloatVector a2 = FloatVector.fromArray(F, out, oa + d + 2 * lanes);
            FloatVector a3 = FloatVector.fromArray(F, out, oa + d + 3 * lanes);
            FloatVector b0 = FloatVector.fromArray(F, out, ob + d);
            FloatVector b1 = FloatVector.fromArray(F, out, ob + d + lanes);
            FloatVector b2 = FloatVector.fromArray(F, out, ob + d + 2 * lanes);
            FloatVector b3 = FloatVector.fromArray(F, out, ob + d + 3 * lanes);
            for (int jj = 0; jj < to; jj++) {
                FloatVector wa = FloatVector.broadcast(F, p[pa + jj]);
                FloatVector wb = FloatVector.broadcast(F, p[pb + jj]);
                int vo = vBase + jj * stride + d;
                FloatVector v0 = FloatVector.fromArray(F, v, vo);
                FloatVector v1 = FloatVector.fromArray(F, v, vo + lanes);
                FloatVector v2 = FloatVector.fromArray(F, v, vo + 2 * lanes);
                FloatVector v3 = FloatVector.fromArray(F, v, vo + 3 * lanes);
                a0 = v0.fma(wa, a0);
                a1 = v1.fma(wa, a1);
                a2 = v2.fma(wa, a2);
                a3 = v3.fma(wa, a3);
                b0 = v0.fma(wb, b0);
                b1 = v1.fma(wb, b1);
                b2 = v2.fma(wb, b2);
                b3 = v3.fma(wb, b3);
            }
            a0.intoArray(out, oa + d);
            a1.intoArray(out, oa + d + lanes);
            a2.intoArray(out, oa + d + 2 * lanes);
            a3.intoArray(out, oa + d + 3 * lanes);
            b0.intoArray(out, ob + d);
            b1.intoArray(out, ob + d + lanes);
            b2.intoArray(out, ob + d + 2 * lanes);
            b3.intoArray(out, ob + d + 3 * lanes);
        }
        weighValues(out, oa, p, pa, v, vBase, stride, 0, to, d, d1, upper);
        weighValues(out, ob, p, pb, v, vBase, stride, 0, to, d, d1, upper);
    }

    /**
     * {@code e^x} for {@code x <= 0} (a score minus the running max), within about 2 ulp; 0 below
     * -87.3 (where the float result would be subnormal) and for -inf. Cephes' expf: {@code x = n ln2
     * + r} with {@code |r| <= ln2 / 2}, a degree-6 polynomial for {@code e^r}, {@code 2^n} put into
     * the exponent bits. Only exact IEEE operations: the same bits compiled or interpreted.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector c = x.max(EXP_MIN);
        // Adding 1.5 * 2^23 rounds to an integer; its low mantissa bits are then that integer.
        FloatVector shifted = c.fma(LOG2_E, ROUNDING);
        FloatVector n = shifted.sub(ROUNDING);
        FloatVector rr = n.fma(x.broadcast(-LN2_HIGH), c);
        rr = n.fma(x.broadcast(-LN2_LOW), rr);
        FloatVector p = rr.fma(EXP_P0, EXP_P1);
        p = p.fma(rr, x.broadcast(EXP_P2));
        p = p.fma(rr, x.broadcast(EXP_P3));
        p = p.fma(rr, x.broadcast(EXP_P4));
        p = p.fma(rr, x.broadcast(EXP_P5));
        FloatVector r2 = rr.mul(rr);
        FloatVector y = p.fma(r2, rr.add(1f));
        IntVector exponent = shifted.reinterpretAsInts().sub(ROUNDING_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector result = y.mul(exponent.reinterpretAsFloats());
        return result.blend(0f, underflow);
    }

    /**
     * The sum of the lanes, in lane order. A tree of {@code rearrange} steps would take fewer
     * instructions, but Java 17's C2 does not compile a shuffle read from an array: it ran the
     * allocating Java fallback on every score, which made decode produce garbage and slowed every
     * attention call; the ordered reduction is an intrinsic and gives the same bits compiled or not.
     */
    private static float sumLanes(FloatVector a) {
        return a.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The {@code F.length()} lanes stored at {@code lanes[at ..]}, summed as {@link #sumLanes} does (from
     * zero, lane 0 first), so a score gets the same bits from either. Java 17 compiles the ordered
     * reduction to a shuffle and an add per lane, and the shuffles all queue on one port: with 16
     * lanes, eight scores' reductions took longer than their multiply-adds over 128 dims. Stored and
     * added back as scalars they need no shuffles (JMH {@code CpuAttention}, 64 queries, AVX-512:
     * 3350 to 2900 us at 512 keys, 28500 to 23000 us at 4096).
     */
    private static float spilledSum(float[] lanes, int at) {
        float s = 0f;
        for (int l = 0; l < F.length(); l++) {
            s += lanes[at + l];
        }
        return s;
    }

    /**
     * A score from its accumulator stored at {@code lanes[at ..]}: the lane sum, then the dims from
     * {@code upper} on as scalars, the operations of {@link #dot}.
     */
    private static float finishScore(float[] lanes, int at, float[] q, int qo, float[] k, int kb, int upper, int dim) {
        float s = spilledSum(lanes, at);
        for (int d = upper; d < dim; d++) {
            s += q[qo + d] * k[kb + d];
        }
        return s;
    }

    /**
     * The scores of four keys {@code stride} apart from {@code kb} for the query at {@code qo}, from
     * their accumulators stored one after another from {@code lanes[spill]}, into {@code scores[at ..]}.
     */
    private static void finishFour(float[] scores, int at, int spill, float[] q, int qo, float[] k, int kb,
            int stride, int upper, int dim) {
        for (int j = 0; j < KEY_BATCH; j++) {
            scores[at + j] = finishScore(scores, spill + j * F.length(), q, qo, k, kb + j * stride, upper, dim);
        }
    }

    /** One key's score; the same operations as each lane of {@link #dot4}. */
    private static float dot(float[] q, int qo, float[] k, int kb, int dim, int upper) {
        FloatVector a = FloatVector.zero(F);
        int d = 0;
        for (; d < upper; d += F.length()) {
            a = FloatVector.fromArray(F, k, kb + d).fma(FloatVector.fromArray(F, q, qo + d), a);
        }
        float s = sumLanes(a);
        for (; d < dim; d++) {
            s += q[qo + d] * k[kb + d];
        }
        return s;
    }

    /**
     * {@link #dot4} for two query rows, {@code dim} apart from {@code qo}, into {@code scores[at ..]}
     * and {@code scores[at + scoreStride ..]}, the accumulators stored at {@code scores[spill ..]}:
     * each key vector loaded serves both rows, and eight independent chains of multiply-adds and
     * eight lane sums in flight hide their latency (a lone {@code dot4} waits on its four chains and
     * then on four lane sums: 1.9x slower per score, measured on AVX2 at 64 and 128 dims). Every
     * score gets the very operations of {@link #dot}, so the bits do not depend on the pairing.
     */
    private static void dot4x2(float[] q, int qo, float[] k, int kb, int stride, int dim, int upper, float[] scores,
            int at, int scoreStride, int spill) {
        int qo2 = qo + dim;
        int b1 = kb + stride;
        int b2 = b1 + stride;
        int b3 = b2 + stride;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        for (int d = 0; d < upper; d += F.length()) {
            FloatVector qa = FloatVector.fromArray(F, q, qo + d);
            FloatVector qb = FloatVector.fromArray(F, q, qo2 + d);
            FloatVector k0 = FloatVector.fromArray(F, k, kb + d);
            a0 = k0.fma(qa, a0);
            c0 = k0.fma(qb, c0);
            FloatVector k1 = FloatVector.fromArray(F, k, b1 + d);
            a1 = k1.fma(qa, a1);
            c1 = k1.fma(qb, c1);
            FloatVector k2 = FloatVector.fromArray(F, k, b2 + d);
            a2 = k2.fma(qa, a2);
            c2 = k2.fma(qb, c2);
            FloatVector k3 = FloatVector.fromArray(F, k, b3 + d);
            a3 = k3.fma(qa, a3);
            c3 = k3.fma(qb, c3);
        }
        int w = F.length();
        a0.intoArray(scores, spill);
        a1.intoArray(scores, spill + w);
        a2.intoArray(scores, spill + 2 * w);
        a3.intoArray(scores, spill + 3 * w);
        c0.intoArray(scores, spill + 4 * w);
        c1.intoArray(scores, spill + 5 * w);
        c2.intoArray(scores, spill + 6 * w);
        c3.intoArray(scores, spill + 7 * w);
        finishFour(scores, at, spill, q, qo, k, kb, stride, upper, dim);
        finishFour(scores, at + scoreStride, spill + 4 * w, q, qo2, k, kb, stride, upper, dim);
    }

    /**
     * Scores of four consecutive keys, each accumulated on its own as {@link #dot} does it, the
     * accumulators stored at {@code scores[spill ..]}.
     */
    private static void dot4(float[] q, int qo, float[] k, int kb, int stride, int dim, int upper, float[] scores,
            int at, int spill) {
        int b1 = kb + stride;
        int b2 = b1 + stride;
        int b3 = b2 + stride;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int d = 0; d < upper; d += F.length()) {
            FloatVector qv = FloatVector.fromArray(F, q, qo + d);
            a0 = FloatVector.fromArray(F, k, kb + d).fma(qv, a0);
            a1 = FloatVector.fromArray(F, k, b1 + d).fma(qv, a1);
            a2 = FloatVector.fromArray(F, k, b2 + d).fma(qv, a2);
            a3 = FloatVector.fromArray(F, k, b3 + d).fma(qv, a3);
        }
        int w = F.length();
        a0.intoArray(scores, spill);
        a1.intoArray(scores, spill + w);
        a2.intoArray(scores, spill + 2 * w);
        a3.intoArray(scores, spill + 3 * w);
        finishFour(scores, at, spill, q, qo, k, kb, stride, upper, dim);
    }

    /** Exact binary16 to float ({@link VectorHalfFloats}), the elements past the last whole vector through {@link HalfFloats}. */
    @Override
    public void halfToFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            IntVector h = (IntVector) ShortVector.fromArray(S, src, srcOffset + i)
                    .convertShape(VectorOperators.S2I, I, 0);
            VectorHalfFloats.toFloat(h).intoArray(dst, dstOffset + i);
        }
        HalfFloats.decode(src, srcOffset + i, dst, dstOffset + i, n - i);
    }

    /** {@link VectorHalfFloats#fromFloat}, the elements past the last whole vector through {@link HalfFloats}. */
    @Override
    public void floatToHalf(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            VectorHalfFloats.fromFloat(FloatVector.fromArray(F, src, srcOffset + i))
                    .convertShape(VectorOperators.I2S, S, 0).reinterpretAsShorts().intoArray(dst, dstOffset + i);
        }
        HalfFloats.encode(src, srcOffset + i, dst, dstOffset + i, n - i);
    }

    /** Each block's quants widened to floats a vector at a time and scaled: the exact products of {@link Q8Blocks}. */
    @Override
    public void q8ToFloat(byte[] q, short[] scales, int offset, float[] dst, int dstOffset, int n) {
        if (B == null) {
            Q8Blocks.dequantize(q, scales, offset, dst, dstOffset, n);
            return;
        }
        for (int b = 0; b < n; b += CpuQ8Buffer.BLOCK) {
            FloatVector d = FloatVector.broadcast(F, Float16.toFloat(scales[(offset + b) / CpuQ8Buffer.BLOCK]));
            for (int i = 0; i < CpuQ8Buffer.BLOCK; i += F.length()) {
                ((FloatVector) ByteVector.fromArray(B, q, offset + b + i).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoArray(dst, dstOffset + b + i);
            }
        }
    }

    @Override
    public String toString() {
        return "vector attention (" + F.length() + " float lanes)";
    }
}
