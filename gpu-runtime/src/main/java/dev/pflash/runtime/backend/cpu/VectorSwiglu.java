package dev.pflash.runtime.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The feed-forward gate {@code silu(g) * u} on the Vector API. {@code silu(z) = z * sigmoid(z)},
 * and with {@code e = exp(-|z|)}, which {@link VectorAttentionKernel#exp} takes (its argument is
 * never positive), {@code sigmoid(z)} is {@code 1 / (1 + e)} for {@code z >= 0} and
 * {@code e / (1 + e)} below: no overflow for either sign. Within a few ulp of the scalar
 * {@code z / (1 + Math.exp(-z))}, and each element's value depends only on its own inputs: the
 * elements past the last whole vector go through the same lanes from a padded copy, so a token
 * gets the same bits in a call of any size. The scalar {@code Math.exp} per element was 3% of a
 * Qwen3-0.6B prefill.
 */
final class VectorSwiglu {
    private static final VectorSpecies<Float> F = VectorMatmul.F;
    private static final int LANES = F.length();

    private VectorSwiglu() {
    }

    /** Floats of room {@link #swiglu} needs for the elements past its last whole vector. */
    static final int TAIL_ROOM = 3 * LANES;

    /**
     * {@code out[oOff + i] = silu(g[gOff + i]) * u[uOff + i]} for {@code i} in {@code [from, to)};
     * {@code tail} holds {@link #TAIL_ROOM} floats of scratch.
     */
    static void swiglu(float[] g, int gOff, float[] u, int uOff, float[] out, int oOff, int from, int to,
            float[] tail) {
        // One call of lanes for whole vectors and the padded tail alike: with a second call for the
        // tail, the exp it inlines twice put the compiled method past C2's budget now and then, and
        // a vector operation ran boxed.
        for (int i = from; i < to; i += LANES) {
            int n = Math.min(LANES, to - i);
            float[] gs = g;
            int ga = gOff + i;
            float[] us = u;
            int ua = uOff + i;
            float[] os = out;
            int oa = oOff + i;
            if (n < LANES) {
                Arrays.fill(tail, 0, 2 * LANES, 0f);
                System.arraycopy(g, ga, tail, 0, n);
                System.arraycopy(u, ua, tail, LANES, n);
                gs = tail;
                ga = 0;
                us = tail;
                ua = LANES;
                os = tail;
                oa = 2 * LANES;
            }
            lanes(FloatVector.fromArray(F, gs, ga), FloatVector.fromArray(F, us, ua)).intoArray(os, oa);
            if (n < LANES) {
                System.arraycopy(tail, 2 * LANES, out, oOff + i, n);
            }
        }
    }

    private static FloatVector lanes(FloatVector z, FloatVector up) {
        FloatVector e = VectorAttentionKernel.exp(z.abs().neg());
        VectorMask<Float> negative = z.compare(VectorOperators.LT, 0f);
        FloatVector numerator = z.broadcast(1f).blend(e, negative);
        return z.mul(numerator.div(e.add(1f))).mul(up);
    }
}
