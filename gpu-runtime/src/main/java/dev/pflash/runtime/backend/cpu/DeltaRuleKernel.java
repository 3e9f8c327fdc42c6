package dev.pflash.runtime.backend.cpu;

/**
 * The row loops of the gated delta rule ({@link CpuDeltaNet}): each walks one row of a head's
 * {@code keyDim x valueDim} state, or of the chunked form's {@code U} and {@code W}, element by
 * element. Two twins: {@link VectorDeltaRuleKernel} on the Vector API and
 * {@link ScalarDeltaRuleKernel}, the reference and the fallback when the JVM lacks the module.
 * Both round every product and every sum separately (no fused multiply-add), so they give the
 * same bits.
 */
interface DeltaRuleKernel {
    /**
     * For {@code b < n}: {@code state[row + b] *= alpha}, then {@code delta[b] += state[row + b] * ka}
     * (decays a state row and adds its projection on the key).
     */
    void decayAndProject(float[] state, int row, float alpha, float ka, float[] delta, int n);

    /**
     * For {@code b < n}: {@code state[row + b] += ka * delta[b]}, then
     * {@code out[o + b] += state[row + b] * qa} (corrects a state row and reads it with the query).
     */
    void updateAndRead(float[] state, int row, float ka, float[] delta, float qa, float[] out, int o, int n);

    /** {@code y[yo + i] += alpha * x[xo + i]} for {@code i < n}. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /** The kernel for this JVM: the Vector API one unless {@link VectorSupport} says no. */
    static DeltaRuleKernel forThisJvm() {
        // The vector class is touched only on this branch: it cannot load without the module.
        return VectorSupport.useVectorKernels() ? new VectorDeltaRuleKernel() : new ScalarDeltaRuleKernel();
    }
}
