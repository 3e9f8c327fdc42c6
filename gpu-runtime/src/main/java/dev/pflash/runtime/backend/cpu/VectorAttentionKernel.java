package dev.pflash.runtime.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
    /** Scales a binary16 exponent, placed in float bits, to the float exponent: 2^(127 - 15). */
    private static final float HALF_TO_FLOAT_SCALE = 0x1p112f;

    private VectorAttentionKernel() {
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
            float oldMax = state.max[r];
            float newMax = oldMax;
            for (jj = 0; jj < visible; jj++) {
                newMax = Math.max(newMax, scores[jj]);
            }
            // exp(-inf) = 0: a row that had seen nothing keeps nothing of its (empty) past.
            float alpha = (float) Math.exp(oldMax - newMax);
            float total = state.sum[r] * alpha;
            for (jj = 0; jj < visible; jj++) {
                float p = (float) Math.exp(scores[jj] - newMax);
                scores[jj] = p;
                total += p;
            }
            int d = 0;
            for (; d < upper; d += F.length()) {
                FloatVector acc = FloatVector.fromArray(F, out, qo + d).mul(alpha);
                for (jj = 0; jj < visible; jj++) {
                    acc = FloatVector.fromArray(F, v, vBase + jj * stride + d).fma(FloatVector.broadcast(F, scores[jj]), acc);
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

    /** One key's score; the same operations as each lane of {@link #dot4}. */
    private static float dot(float[] q, int qo, float[] k, int kb, int dim, int upper) {
        FloatVector a = FloatVector.zero(F);
        int d = 0;
        for (; d < upper; d += F.length()) {
            a = FloatVector.fromArray(F, k, kb + d).fma(FloatVector.fromArray(F, q, qo + d), a);
        }
        float s = a.reduceLanes(VectorOperators.ADD);
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
        float s0 = a0.reduceLanes(VectorOperators.ADD);
        float s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD);
        float s3 = a3.reduceLanes(VectorOperators.ADD);
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
