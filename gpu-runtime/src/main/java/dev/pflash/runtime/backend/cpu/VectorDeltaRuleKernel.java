package dev.pflash.runtime.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@link DeltaRuleKernel} on the Vector API: the scalar twin's operations lane by lane, then
 * the elements past the last whole vector through the scalar twin. C2 leaves the scalar loops
 * unvectorized (they index arrays at offsets that might overlap), and they cost as much as all of
 * a small hybrid model's matmuls. Loaded only when {@link VectorSupport#useVectorKernels()} says so.
 */
final class VectorDeltaRuleKernel implements DeltaRuleKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    @Override
    public void decayAndProject(float[] state, int row, float alpha, float ka, float[] delta, int n) {
        int bound = F.loopBound(n);
        int b = 0;
        for (; b < bound; b += F.length()) {
            FloatVector decayed = FloatVector.fromArray(F, state, row + b).mul(alpha);
            decayed.intoArray(state, row + b);
            FloatVector.fromArray(F, delta, b).add(decayed.mul(ka)).intoArray(delta, b);
        }
        ScalarDeltaRuleKernel.decayAndProject(state, row, alpha, ka, delta, b, n);
    }

    @Override
    public void updateAndRead(float[] state, int row, float ka, float[] delta, float qa, float[] out, int o, int n) {
        int bound = F.loopBound(n);
        int b = 0;
        for (; b < bound; b += F.length()) {
            FloatVector updated = FloatVector.fromArray(F, state, row + b)
                    .add(FloatVector.fromArray(F, delta, b).mul(ka));
            updated.intoArray(state, row + b);
            FloatVector.fromArray(F, out, o + b).add(updated.mul(qa)).intoArray(out, o + b);
        }
        ScalarDeltaRuleKernel.updateAndRead(state, row, ka, delta, qa, out, o, b, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, y, yo + i).add(FloatVector.fromArray(F, x, xo + i).mul(alpha))
                    .intoArray(y, yo + i);
        }
        ScalarDeltaRuleKernel.axpy(alpha, x, xo, y, yo, i, n);
    }
}
