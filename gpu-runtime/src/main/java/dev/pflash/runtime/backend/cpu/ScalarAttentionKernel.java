package dev.pflash.runtime.backend.cpu;

/** The plain-Java {@link AttentionKernel}: the reference for the vector twin, and its fallback. */
final class ScalarAttentionKernel implements AttentionKernel {
    @Override
    public void step(float[] q, float[] qt, int[] last, int rows, int dim, SoftmaxState state, float[] scores,
            float[] k, int kBase, float[] v, int vBase, int stride, int j0, int n) {
        float[] out = state.out;
        for (int r = 0; r < rows; r++) {
            int visible = Math.min(n, last[r] + 1 - j0);
            if (visible <= 0) {
                continue;
            }
            int qo = r * dim;
            for (int jj = 0; jj < visible; jj++) {
                scores[jj] = FloatKernels.dot(q, qo, k, kBase + jj * stride, dim);
            }
            float oldMax = state.max[r];
            float newMax = oldMax;
            for (int jj = 0; jj < visible; jj++) {
                newMax = Math.max(newMax, scores[jj]);
            }
            // exp(-inf) = 0: a row that had seen nothing keeps nothing of its (empty) past.
            float alpha = (float) Math.exp(oldMax - newMax);
            float total = state.sum[r] * alpha;
            for (int jj = 0; jj < visible; jj++) {
                float p = (float) Math.exp(scores[jj] - newMax);
                scores[jj] = p;
                total += p;
            }
            for (int d = 0; d < dim; d++) {
                out[qo + d] *= alpha;
            }
            for (int jj = 0; jj < visible; jj++) {
                float p = scores[jj];
                int vo = vBase + jj * stride;
                for (int d = 0; d < dim; d++) {
                    out[qo + d] += p * v[vo + d];
                }
            }
            state.max[r] = newMax;
            state.sum[r] = total;
        }
    }

    @Override
    public void halfToFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        HalfFloats.decode(src, srcOffset, dst, dstOffset, n);
    }

    @Override
    public void floatToHalf(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        HalfFloats.encode(src, srcOffset, dst, dstOffset, n);
    }

    @Override
    public void q8ToFloat(byte[] q, short[] scales, int offset, float[] dst, int dstOffset, int n) {
        Q8Blocks.dequantize(q, scales, offset, dst, dstOffset, n);
    }

    @Override
    public String toString() {
        return "scalar attention";
    }
}
