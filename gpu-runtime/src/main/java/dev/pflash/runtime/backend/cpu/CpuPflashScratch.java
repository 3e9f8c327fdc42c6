package dev.pflash.runtime.backend.cpu;

/**
 * Per-thread working arrays of the CPU PFlash kernels, grown on demand and reused, so that the hot
 * loops allocate nothing. Separate from {@link CpuScratch} so that the two kernel families can
 * evolve independently.
 */
final class CpuPflashScratch {
    /** Names of the reusable arrays. */
    enum Slot {
        QUERY_T, ROW_SCORES
    }

    private final float[][] vectors = new float[Slot.values().length][];
    private final float[][][] matrices = new float[Slot.values().length][][];

    /** A vector of at least {@code n} floats with unspecified contents. */
    float[] vector(Slot slot, int n) {
        float[] v = vectors[slot.ordinal()];
        if (v == null || v.length < n) {
            v = new float[n];
            vectors[slot.ordinal()] = v;
        }
        return v;
    }

    /** At least {@code rows} separate arrays of at least {@code cols} floats, unspecified contents. */
    float[][] matrix(Slot slot, int rows, int cols) {
        float[][] m = matrices[slot.ordinal()];
        if (m == null || m.length < rows || (rows > 0 && m[0].length < cols)) {
            int r = Math.max(rows, m == null ? 0 : m.length);
            int c = Math.max(cols, m == null || m.length == 0 ? 0 : m[0].length);
            m = new float[r][c];
            matrices[slot.ordinal()] = m;
        }
        return m;
    }
}
