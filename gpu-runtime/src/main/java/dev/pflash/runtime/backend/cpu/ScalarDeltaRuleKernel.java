package dev.pflash.runtime.backend.cpu;

/**
 * The {@link DeltaRuleKernel} in plain loops: the reference, and the kernel without the Vector API.
 * The static forms take a first element, so that the vector twin runs its tails through them.
 */
final class ScalarDeltaRuleKernel implements DeltaRuleKernel {
    @Override
    public void decayAndProject(float[] state, int row, float alpha, float ka, float[] delta, int n) {
        decayAndProject(state, row, alpha, ka, delta, 0, n);
    }

    @Override
    public void updateAndRead(float[] state, int row, float ka, float[] delta, float qa, float[] out, int o, int n) {
        updateAndRead(state, row, ka, delta, qa, out, o, 0, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        axpy(alpha, x, xo, y, yo, 0, n);
    }

    /** {@link DeltaRuleKernel#decayAndProject} for elements {@code from <= b < n}. */
    static void decayAndProject(float[] state, int row, float alpha, float ka, float[] delta, int from, int n) {
        for (int b = from; b < n; b++) {
            float decayed = state[row + b] * alpha;
            state[row + b] = decayed;
            delta[b] += decayed * ka;
        }
    }

    /** {@link DeltaRuleKernel#updateAndRead} for elements {@code from <= b < n}. */
    static void updateAndRead(float[] state, int row, float ka, float[] delta, float qa, float[] out, int o,
            int from, int n) {
        for (int b = from; b < n; b++) {
            float updated = state[row + b] + ka * delta[b];
            state[row + b] = updated;
            out[o + b] += updated * qa;
        }
    }

    /** {@link DeltaRuleKernel#axpy} for elements {@code from <= i < n}. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int from, int n) {
        for (int i = from; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }
}
