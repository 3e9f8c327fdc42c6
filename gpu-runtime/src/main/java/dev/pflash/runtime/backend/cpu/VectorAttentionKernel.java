package dev.pflash.runtime.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link AttentionKernel} on the Vector API: scores are dot products over the head dims, one
 * vector accumulator per key (four keys at a time share each query load), and the weighted values
 * are accumulated a vector of output dims at a time over all keys of the step, so each output
 * vector is loaded and stored once per step. Dims past the last whole vector run as scalars.
 * Loaded only when {@link VectorSupport#useVectorKernels()} says so.
 */
final class VectorAttentionKernel implements AttentionKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(F.vectorBitSize() / 2));
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
    /** Lane permutations swapping halves, quarters, ... down to neighbouring lanes. */
    private static final VectorShuffle<Float>[] SWAPS = swaps();
    /** Scales a binary16 exponent, placed in float bits, to the float exponent: 2^(127 - 15). */
    private static final float HALF_TO_FLOAT_SCALE = 0x1p112f;

    private VectorAttentionKernel() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] swaps() {
        int steps = Integer.numberOfTrailingZeros(F.length());
        VectorShuffle<Float>[] swaps = new VectorShuffle[steps];
        for (int i = 0; i < steps; i++) {
            int width = F.length() >> (i + 1);
            swaps[i] = VectorShuffle.fromOp(F, lane -> lane ^ width);
        }
        return swaps;
    }

    static VectorAttentionKernel create() {
        return new VectorAttentionKernel();
    }

    @Override
    public void step(float[] q, int[] last, int rows, int dim, SoftmaxState state, float[] scores,
            float[] k, int kBase, float[] v, int vBase, int stride, int j0, int n) {
        float[] out = state.out;
        int upper = F.loopBound(dim);
        for (int r = 0; r < rows; r++) {
            int visible = Math.min(n, last[r] + 1 - j0);
            if (visible <= 0) {
                continue;
            }
            int qo = r * dim;
            int jj = 0;
            for (; jj + 4 <= visible; jj += 4) {
                dot4(q, qo, k, kBase + jj * stride, stride, dim, upper, scores, jj);
            }
            for (; jj < visible; jj++) {
                scores[jj] = dot(q, qo, k, kBase + jj * stride, dim, upper);
            }
            // Padding past the visible keys with -inf lets whole vectors cover the scores: it never
            // wins the max and its exp is exactly 0, which adds nothing to the sum.
            int padded = (visible + F.length() - 1) / F.length() * F.length();
            Arrays.fill(scores, visible, padded, Float.NEGATIVE_INFINITY);
            FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (jj = 0; jj < padded; jj += F.length()) {
                maxes = maxes.max(FloatVector.fromArray(F, scores, jj));
            }
            float oldMax = state.max[r];
            float newMax = Math.max(oldMax, maxes.reduceLanes(VectorOperators.MAX));
            // exp(-inf) = 0: a row that had seen nothing keeps nothing of its (empty) past.
            float alpha = (float) Math.exp(oldMax - newMax);
            FloatVector sums = FloatVector.zero(F);
            for (jj = 0; jj < padded; jj += F.length()) {
                FloatVector p = exp(FloatVector.fromArray(F, scores, jj).sub(newMax));
                p.intoArray(scores, jj);
                sums = sums.add(p);
            }
            float total = state.sum[r] * alpha + sumLanes(sums);
            // Four output vectors at a time: four independent chains of fmas keep the FMA units busy,
            // and each element still adds its keys one after another, in key order.
            int lanes = F.length();
            int d = 0;
            for (; d + 4 * lanes <= upper; d += 4 * lanes) {
                int o0 = qo + d;
                FloatVector acc0 = FloatVector.fromArray(F, out, o0).mul(alpha);
                FloatVector acc1 = FloatVector.fromArray(F, out, o0 + lanes).mul(alpha);
                FloatVector acc2 = FloatVector.fromArray(F, out, o0 + 2 * lanes).mul(alpha);
                FloatVector acc3 = FloatVector.fromArray(F, out, o0 + 3 * lanes).mul(alpha);
                for (jj = 0; jj < visible; jj++) {
                    FloatVector p = FloatVector.broadcast(F, scores[jj]);
                    int vo = vBase + jj * stride + d;
                    acc0 = FloatVector.fromArray(F, v, vo).fma(p, acc0);
                    acc1 = FloatVector.fromArray(F, v, vo + lanes).fma(p, acc1);
                    acc2 = FloatVector.fromArray(F, v, vo + 2 * lanes).fma(p, acc2);
                    acc3 = FloatVector.fromArray(F, v, vo + 3 * lanes).fma(p, acc3);
                }
                acc0.intoArray(out, o0);
                acc1.intoArray(out, o0 + lanes);
                acc2.intoArray(out, o0 + 2 * lanes);
                acc3.intoArray(out, o0 + 3 * lanes);
            }
            for (; d < upper; d += lanes) {
                FloatVector acc = FloatVector.fromArray(F, out, qo + d).mul(alpha);
                for (jj = 0; jj < visible; jj++) {
                    FloatVector p = FloatVector.broadcast(F, scores[jj]);
                    acc = FloatVector.fromArray(F, v, vBase + jj * stride + d).fma(p, acc);
                }
                acc.intoArray(out, qo + d);
            }
            for (; d < dim; d++) {
                float acc = out[qo + d] * alpha;
                for (jj = 0; jj < visible; jj++) {
                    acc += scores[jj] * v[vBase + jj * stride + d];
                }
                out[qo + d] = acc;
            }
            state.max[r] = newMax;
            state.sum[r] = total;
        }
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
        FloatVector rr = n.fma(FloatVector.broadcast(F, -LN2_HIGH), c);
        rr = n.fma(FloatVector.broadcast(F, -LN2_LOW), rr);
        FloatVector p = rr.fma(EXP_P0, EXP_P1);
        p = p.fma(rr, FloatVector.broadcast(F, EXP_P2));
        p = p.fma(rr, FloatVector.broadcast(F, EXP_P3));
        p = p.fma(rr, FloatVector.broadcast(F, EXP_P4));
        p = p.fma(rr, FloatVector.broadcast(F, EXP_P5));
        FloatVector r2 = rr.mul(rr);
        FloatVector y = p.fma(r2, rr.add(1f));
        IntVector exponent = shifted.reinterpretAsInts().sub(ROUNDING_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector result = y.mul(exponent.reinterpretAsFloats());
        return result.blend(0f, underflow);
    }

    /**
     * The sum of the lanes as a tree: each step adds the vector to itself with its halves (then
     * quarters, ...) swapped, so lane 0 ends with the total. Half the instructions of an ordered
     * reduction, in an order fixed by the species alone.
     */
    private static float sumLanes(FloatVector a) {
        for (VectorShuffle<Float> swap : SWAPS) {
            a = a.add(a.rearrange(swap));
        }
        return a.lane(0);
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

    /** Scores of four consecutive keys, each accumulated on its own as {@link #dot} does it. */
    private static void dot4(float[] q, int qo, float[] k, int kb, int stride, int dim, int upper, float[] scores,
            int at) {
        int b1 = kb + stride;
        int b2 = b1 + stride;
        int b3 = b2 + stride;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int d = 0;
        for (; d < upper; d += F.length()) {
            FloatVector qv = FloatVector.fromArray(F, q, qo + d);
            a0 = FloatVector.fromArray(F, k, kb + d).fma(qv, a0);
            a1 = FloatVector.fromArray(F, k, b1 + d).fma(qv, a1);
            a2 = FloatVector.fromArray(F, k, b2 + d).fma(qv, a2);
            a3 = FloatVector.fromArray(F, k, b3 + d).fma(qv, a3);
        }
        float s0 = sumLanes(a0);
        float s1 = sumLanes(a1);
        float s2 = sumLanes(a2);
        float s3 = sumLanes(a3);
        for (; d < dim; d++) {
            float x = q[qo + d];
            s0 += x * k[kb + d];
            s1 += x * k[b1 + d];
            s2 += x * k[b2 + d];
            s3 += x * k[b3 + d];
        }
        scores[at] = s0;
        scores[at + 1] = s1;
        scores[at + 2] = s2;
        scores[at + 3] = s3;
    }

    /**
     * Exact binary16 to float: the 15 magnitude bits shifted into float position and multiplied by
     * 2^112 rebias the exponent and normalize subnormals in one exact product; infinities and NaNs
     * (exponent all ones) get the float's all-ones exponent instead; then the sign.
     */
    @Override
    public void halfToFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        int i = 0;
        int upper = S.loopBound(n);
        for (; i < upper; i += S.length()) {
            IntVector h = (IntVector) ShortVector.fromArray(S, src, srcOffset + i)
                    .convertShape(VectorOperators.S2I, I, 0);
            IntVector magnitude = h.and(0x7FFF);
            IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
            IntVector finite = shifted.reinterpretAsFloats().mul(HALF_TO_FLOAT_SCALE).reinterpretAsInts();
            VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
            IntVector bits = finite.blend(shifted.or(0x7F800000), special).or(h.and(0x80000000));
            bits.reinterpretAsFloats().intoArray(dst, dstOffset + i);
        }
        HalfFloats.decode(src, srcOffset + i, dst, dstOffset + i, n - i);
    }

    @Override
    public String toString() {
        return "vector attention (" + F.length() + " float lanes)";
    }
}
