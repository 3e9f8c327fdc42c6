package dev.pflash.runtime.backend.cpu;

/**
 * Per-thread working arrays of the CPU kernels, grown on demand and reused across ops so that the
 * hot loops allocate nothing. Each use has its own slot, so a kernel running on the calling thread
 * never clobbers the shared input that the same thread prepared for the workers.
 */
final class CpuScratch {
    /** Names of the reusable slots. */
    enum Slot {
        WEIGHT_ROW, WEIGHT_ROWS, WEIGHT_BLOCK, ACCUMULATORS, TRANSPOSED_INPUT, TOKEN_PANELS, PANEL_OUTPUT,
        UNIT_SCALES, ROPE_COS, ROPE_SIN, SWIGLU_TAIL
    }

    private final float[][] vectors = new float[Slot.values().length][];
    private byte[] bytes = new byte[0];
    private float[][] references = new float[0][];
    private final float[][][] matrices = new float[Slot.values().length][][];
    /** Made on first use: the class needs the Vector API module, which the scalar kernels run without. */
    private KQuantScales kQuantScales;

    /** A vector of at least {@code n} floats with unspecified contents. */
    float[] vector(Slot slot, int n) {
        float[] v = vectors[slot.ordinal()];
        if (v == null || v.length < n) {
            v = new float[n];
            vectors[slot.ordinal()] = v;
        }
        return v;
    }

    /** At least {@code n} bytes with unspecified contents: quantized weight rows copied for the vector kernels. */
    byte[] bytes(int n) {
        if (bytes.length < n) {
            bytes = new byte[n];
        }
        return bytes;
    }

    /**
     * At least {@code n} slots for references to float arrays, contents unspecified: a kernel's
     * choice among stored and scratch arrays, made without allocating.
     */
    float[][] references(int n) {
        if (references.length < n) {
            references = new float[n][];
        }
        return references;
    }

    /** The unpacked scales of the K-quant block being dequantized. */
    KQuantScales kQuantScales() {
        if (kQuantScales == null) {
            kQuantScales = new KQuantScales();
        }
        return kQuantScales;
    }

    /**
     * At least {@code rows} separate arrays of at least {@code cols} floats each, unspecified
     * contents. Separate arrays (rather than one array with offsets) are what lets the JIT
     * vectorize loops that read several rows at the same index.
     */
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
