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
        int i = from;
        for (; i + LANES <= to; i += LANES) {
            FloatVector z = FloatVector.fromArray(F, g, gOff + i);
            lanes(z, FloatVector.fromArray(F, u, uOff + i)).intoArray(out, oOff + i);
        }
        if (i < to) {
            int n = to - i;
            Arrays.fill(tail, 0, 2 * LANES, 0f);
            System.arraycopy(g, gOff + i, tail, 0, n);
            System.arraycopy(u, uOff + i, tail, LANES, n);
            lanes(FloatVector.fromArray(F, tail, 0), FloatVector.fromArray(F, tail, LANES)).intoArray(tail, 2 * LANES);
            System.arraycopy(tail, 2 * LANES, out, oOff + i, n);
        }
    }

    private static FloatVector lanes(FloatVector z, FloatVector up) {
        FloatVector e = VectorAttentionKernel.exp(z.abs().neg());
        VectorMask<Float> negative = z.compare(VectorOperators.LT, 0f);
        FloatVector numerator = z.broadcast(1f).blend(e, negative);
        return z.mul(numerator.div(e.add(1f))).mul(up);
    }
}
