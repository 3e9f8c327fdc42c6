package dev.pflash.runtime.backend.cpu;

/**
 * The inner loop of every CPU attention (dense prefill, decode and the drafter's block-sparse
 * forward): one online-softmax step of a run of consecutive keys for a tile of queries that share
 * one kv head, and the conversions that stage f16 and q8_0 keys and values for it. Two twins:
 * {@link VectorAttentionKernel} on the Vector API and {@link ScalarAttentionKernel}, the reference
 * and the fallback when the JVM lacks the module.
 *
 * <p>A kernel does, for each query row, the same operations in the same order whatever the other
 * rows of the tile are: the output of a query does not depend on how its prompt was split into
 * chunks or tiles.
 */
interface AttentionKernel {
    /**
     * Keys {@code j0 .. j0 + n - 1} for {@code rows} query rows: row {@code r}'s scaled query is
     * {@code q[r * dim ..]}, it sees keys up to index {@code last[r]} and skips the step if it sees
     * none of them. Key {@code j0 + jj} is {@code k[kBase + jj * stride ..]}, its value
     * {@code v[vBase + jj * stride ..]}; {@code scores} is scratch of at least
     * {@link #scratchFloats scratchFloats(rows, n)} floats. {@code qt} is null or the same queries
     * transposed by {@link #transposeQueries}, for a kernel that scores many rows at once.
     */
    void step(float[] q, float[] qt, int[] last, int rows, int dim, SoftmaxState state, float[] scores,
            float[] k, int kBase, float[] v, int vBase, int stride, int j0, int n);

    /** {@code dst[dstOffset + i] = } the float value of the f16 {@code src[srcOffset + i]}, exactly. */
    void halfToFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n);

    /** {@code dst[dstOffset + i] = } {@link HalfFloats#fromFloat} of {@code src[srcOffset + i]}: bit for bit. */
    void floatToHalf(float[] src, int srcOffset, short[] dst, int dstOffset, int n);

    /**
     * {@code dst[dstOffset + i] = } the float value of q8_0 element {@code offset + i} of quants
     * {@code q} and f16 block scales {@code scales}, as {@link Q8Blocks#dequantize} gives it: bit for
     * bit. {@code offset} and {@code n} are multiples of {@link CpuQ8Buffer#BLOCK}.
     */
    void q8ToFloat(byte[] q, short[] scales, int offset, float[] dst, int dstOffset, int n);

    /** Query rows of a transposed panel: every row count is padded up to a multiple of this. */
    int QUERY_PANEL = 32;

    /** {@code rows} rounded up to a multiple of {@link #QUERY_PANEL}: the rows of a transposed dim. */
    static int paddedRows(int rows) {
        return (rows + QUERY_PANEL - 1) / QUERY_PANEL * QUERY_PANEL;
    }

    /** Floats that {@link #transposeQueries} writes for {@code rows} rows of {@code dim}. */
    static int transposedFloats(int rows, int dim) {
        return paddedRows(rows) * dim;
    }

    /**
     * Element {@code d} of query row {@code r} of {@code q} to {@code qt[d * padded + r]}, with
     * {@code padded} = {@link #paddedRows paddedRows(rows)} and zeros in the padding rows.
     */
    static void transposeQueries(float[] q, int rows, int dim, float[] qt) {
        int padded = paddedRows(rows);
        for (int d = 0; d < dim; d++) {
            int at = d * padded;
            for (int r = 0; r < rows; r++) {
                qt[at + r] = q[r * dim + d];
            }
            for (int r = rows; r < padded; r++) {
                qt[at + r] = 0f;
            }
        }
    }

    /** Scratch floats per row for the scores of {@code n} keys: padded up to a whole vector of up to 64 floats. */
    static int scoreStride(int n) {
        return n + 64;
    }

    /**
     * The scratch a step needs: {@code rows} rows of {@link #scoreStride scoreStride(n)} scores, then
     * room for eight vectors of up to 64 floats where a kernel may store accumulators to sum their lanes.
     */
    static int scratchFloats(int rows, int n) {
        return rows * scoreStride(n) + 8 * 64;
    }

    /** The kernel for this JVM: the Vector API one unless {@link VectorSupport} says no. */
    static AttentionKernel forThisJvm() {
        // The vector class is touched only on this branch: it cannot load without the module.
        return VectorSupport.useVectorKernels() ? VectorAttentionKernel.create() : new ScalarAttentionKernel();
    }
}
