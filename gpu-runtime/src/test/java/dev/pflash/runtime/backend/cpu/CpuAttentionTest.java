package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pflash.runtime.backend.AttentionChunk;
import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.BlockMask;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.gguf.Float16;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The attention kernels: the vector kernel against the scalar one and both against a double
 * precision reference, for odd head dims (tails shorter than a vector), GQA ratios 1, 2 and 4,
 * chunks on both sides of the prefill/decode switch, caches longer than a softmax segment, f32,
 * f16 and q8_0 storage; bit identity across chunkings and between a key scored in a batch of four and
 * alone; block-sparse with every block selected equal to dense. Tolerance vector vs scalar and vs
 * the reference: 2e-5 absolute on outputs of magnitude about 1 (the kernels sum dot products in
 * different orders, a few float roundings apart).
 */
class CpuAttentionTest {
    private static final double TOLERANCE = 2e-5;
    private static final AttentionKernel SCALAR = new ScalarAttentionKernel();
    private static final AttentionKernel VECTOR = VectorAttentionKernel.create();
    private static CpuThreadPool pool;
    private static final ThreadLocal<AttentionScratch> SCRATCH = ThreadLocal.withInitial(AttentionScratch::new);

    @BeforeAll
    static void startPool() {
        pool = new CpuThreadPool(3);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    @ParameterizedTest(name = "heads {0}/{1}, dim {2}, {3} tokens after {4}, {5}")
    @CsvSource({
        "4, 4, 7, 1, 0, F32", "4, 2, 24, 5, 30, F32", "8, 2, 64, 40, 0, F32", "4, 1, 67, 17, 70, F16",
        "2, 1, 128, 1, 2500, F16", "4, 2, 33, 3, 1100, F32", "4, 4, 16, 48, 1030, F16", "8, 4, 128, 16, 0, F16",
        "6, 3, 9, 100, 0, F32", "4, 2, 64, 17, 70, Q8_0", "8, 4, 128, 1, 1100, Q8_0", "2, 1, 32, 40, 0, Q8_0"})
    void vectorAndScalarKernelsAgreeWithTheReference(int heads, int kvHeads, int dim, int tokens, int first,
            ElementType type) {
        AttentionShape shape = new AttentionShape(heads, kvHeads, dim, (float) (1 / Math.sqrt(dim)));
        Inputs in = Inputs.random(shape, tokens, first, type, 11 + dim);
        float[] scalar = in.attend(SCALAR);
        float[] vector = in.attend(VECTOR);
        double[] reference = in.reference();
        assertThat(maxDifference(vector, scalar)).as("vector vs scalar").isLessThanOrEqualTo(TOLERANCE);
        assertThat(maxDifference(scalar, reference)).as("scalar vs reference").isLessThanOrEqualTo(TOLERANCE);
        assertThat(maxDifference(vector, reference)).as("vector vs reference").isLessThanOrEqualTo(TOLERANCE);
    }

    /**
     * Queries past two softmax segments, computed as one prefill chunk (tiles), in uneven chunks
     * and one token at a time (split decode): the same bits every way, on each kernel and type
     * (q8_0 with heads of whole blocks).
     */
    @ParameterizedTest
    @CsvSource({"40, F32", "40, F16", "64, Q8_0"})
    void chunkingDoesNotChangeABitOverALongCache(int dim, ElementType type) {
        AttentionShape shape = new AttentionShape(4, 2, dim, 0.15f);
        int first = 2 * CpuAttention.SEGMENT + 5;
        int tokens = 45;
        Inputs in = Inputs.random(shape, tokens, first, type, 5);
        for (AttentionKernel kernel : List.of(SCALAR, VECTOR)) {
            float[] whole = in.attend(kernel);
            float[] steps = new float[whole.length];
            int from = 0;
            for (int size : new int[] {1, 3, 20, 1, 16, 4}) {
                float[] part = in.attendPart(kernel, from, size);
                System.arraycopy(part, 0, steps, from * shape.queryDim(), part.length);
                from += size;
            }
            assertThat(from).isEqualTo(tokens);
            assertThat(steps).as(kernel.toString()).containsExactly(whole);
        }
    }

    /**
     * A split decode's task takes the most adjacent kv heads that still give each thread a task:
     * Qwen3-0.6B's 8 kv heads on 2 threads whole for a batch or a long cache, halves for one
     * segment; a divisor of the heads always (6 heads: 3, 2 or 1), 1 when threads outnumber the work.
     */
    @Test
    void aDecodeTaskTakesTheMostHeadsThatStillGiveEachThreadATask() {
        assertThat(CpuAttention.headsPerTask(8, 8, 2)).isEqualTo(8);
        assertThat(CpuAttention.headsPerTask(8, 2, 2)).isEqualTo(8);
        assertThat(CpuAttention.headsPerTask(8, 1, 2)).isEqualTo(4);
        assertThat(CpuAttention.headsPerTask(8, 3, 8)).isEqualTo(2);
        assertThat(CpuAttention.headsPerTask(6, 1, 2)).isEqualTo(3);
        assertThat(CpuAttention.headsPerTask(6, 1, 4)).isEqualTo(1);
        assertThat(CpuAttention.headsPerTask(6, 2, 4)).isEqualTo(3);
        assertThat(CpuAttention.headsPerTask(8, 1, 16)).isEqualTo(1);
        assertThat(CpuAttention.headsPerTask(1, 1, 2)).isEqualTo(1);
    }

    /**
     * A packed step of several sequences, each over its own cache (f16 and f32, one past a softmax
     * segment, one chunk long enough for tiles), in one {@code Backend.attention} call: each
     * sequence gets the bits it gets alone, and a wrong sequence's cache or output would show.
     */
    @Test
    void aBatchOfSequencesGetsTheBitsEachGetsAlone() {
        AttentionShape shape = new AttentionShape(4, 2, 40, 0.15f);
        List<Inputs> inputs = List.of(Inputs.random(shape, 1, 16, ElementType.F16, 1),
                Inputs.random(shape, 1, CpuAttention.SEGMENT + 30, ElementType.F16, 2),
                Inputs.random(shape, 3, 7, ElementType.F32, 3),
                Inputs.random(shape, CpuAttention.TILE_TOKENS + 8, 20, ElementType.F16, 4),
                Inputs.random(shape, 1, 0, ElementType.F32, 5));
        try (CpuBackend backend = new CpuBackend(3)) {
            List<AttentionChunk> chunks = new ArrayList<>();
            List<float[]> outs = new ArrayList<>();
            for (Inputs in : inputs) {
                float[] out = new float[in.tokens() * shape.queryDim()];
                outs.add(out);
                chunks.add(new AttentionChunk(new CpuBuffer(in.q(), 0, in.q().length), in.keys(), in.values(),
                        in.tokens(), in.first(), new CpuBuffer(out, 0, out.length)));
            }
            backend.attention(chunks, shape);
            for (int i = 0; i < inputs.size(); i++) {
                float[] alone = inputs.get(i).attend(backend.attentionKernel());
                assertThat(outs.get(i)).as("sequence " + i).containsExactly(alone);
            }
        }
    }

    /**
     * Key 4 repeats key 0: the first is scored in a batch of four keys (for one row alone, and for
     * rows in pairs), the second alone after the last whole batch. Their weights, read back through
     * one-hot values, must be the same bits, or a score would depend on where its key falls in a step.
     */
    @ParameterizedTest
    @CsvSource({"1, 7", "2, 7", "3, 7", "2, 37", "3, 128"})
    void aKeyScoresTheSameBitsInABatchOfFourAsAlone(int rows, int dim) {
        int n = 5;
        for (int seed = 0; seed < 20; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            float[] q = new float[rows * dim];
            float[] k = new float[n * dim];
            float[] v = new float[n * dim];
            for (int i = 0; i < q.length; i++) {
                q[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 2)));
            }
            for (int i = 0; i < 4 * dim; i++) {
                k[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 2)));
            }
            System.arraycopy(k, 0, k, 4 * dim, dim);
            v[0] = 1f;
            v[4 * dim + 1] = 1f;
            int[] last = new int[rows];
            Arrays.fill(last, n - 1);
            for (AttentionKernel kernel : List.of(SCALAR, VECTOR)) {
                SoftmaxState state = new SoftmaxState();
                state.reset(rows, dim);
                kernel.step(q, null, last, rows, dim, state, new float[AttentionKernel.scratchFloats(rows, n)],
                        k, 0, v, 0, dim, 0, n);
                for (int r = 0; r < rows; r++) {
                    assertThat(state.out[r * dim + 1]).as("%s seed %d row %d", kernel, seed, r)
                            .isEqualTo(state.out[r * dim]);
                }
            }
        }
    }

    /**
     * Scoring many rows at once from transposed queries gives each score the very bits of the
     * lane-parallel dot product and its lane sum: the same softmax state either way, for dims with
     * and without a tail, key runs with and without a partial batch, and rows that see some, all or
     * none of the keys.
     */
    @ParameterizedTest(name = "{0} rows of {1} dims, {2} keys")
    @CsvSource({"16, 128, 64", "33, 128, 61", "64, 64, 64", "40, 37, 30", "20, 7, 9", "70, 128, 64"})
    void transposedQueriesScoreTheSameBitsAsTheLaneSums(int rows, int dim, int n) {
        SplittableRandom random = new SplittableRandom(rows * 31L + dim);
        float[] q = new float[rows * dim];
        float[] k = new float[n * dim];
        float[] v = new float[n * dim];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 2)));
        }
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) random.nextGaussian();
            v[i] = (float) random.nextGaussian();
        }
        int j0 = 100;
        int[] last = new int[rows];
        for (int r = 0; r < rows; r++) {
            last[r] = j0 - 2 + (r * 7) % (n + 5);
        }
        float[] qt = new float[AttentionKernel.transposedFloats(rows, dim)];
        AttentionKernel.transposeQueries(q, rows, dim, qt);
        SoftmaxState lanes = new SoftmaxState();
        SoftmaxState transposed = new SoftmaxState();
        lanes.reset(rows, dim);
        transposed.reset(rows, dim);
        VECTOR.step(q, null, last, rows, dim, lanes, new float[AttentionKernel.scratchFloats(rows, n)], k, 0, v, 0,
                dim, j0, n);
        VECTOR.step(q, qt, last, rows, dim, transposed, new float[AttentionKernel.scratchFloats(rows, n)], k, 0, v,
                0, dim, j0, n);
        assertThat(transposed.out).containsExactly(lanes.out);
        assertThat(transposed.max).containsExactly(lanes.max);
        assertThat(transposed.sum).containsExactly(lanes.sum);
        assertThat(lanes.sum[1]).as("row 1 sees keys 100..105").isPositive();
    }

    /**
     * f16 and q8_0 storage are only ways to hold the rounded (quantized) values: the same bits as
     * f32 storage of them.
     */
    @ParameterizedTest
    @CsvSource({"24, F16", "32, Q8_0"})
    void storageOfAnyTypeEqualsF32StorageOfTheValuesItHolds(int dim, ElementType type) {
        AttentionShape shape = new AttentionShape(4, 2, dim, 0.2f);
        Inputs stored = Inputs.random(shape, 20, 1200, type, 9);
        Inputs asF32 = stored.asF32();
        for (AttentionKernel kernel : List.of(SCALAR, VECTOR)) {
            assertThat(stored.attend(kernel)).as(kernel.toString()).containsExactly(asF32.attend(kernel));
        }
    }

    @Test
    void vectorHalfToFloatIsExactForEveryBitPattern() {
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        float[] scalar = new float[all.length];
        float[] vector = new float[all.length];
        SCALAR.halfToFloat(all, 0, scalar, 0, all.length);
        // An odd start and length: the scalar tail after the last whole vector.
        VECTOR.halfToFloat(all, 0, vector, 0, 3);
        VECTOR.halfToFloat(all, 3, vector, 3, all.length - 3);
        for (int i = 0; i < all.length; i++) {
            assertThat(Float.floatToRawIntBits(vector[i])).as("f16 bits %04x", i)
                    .isEqualTo(Float.floatToRawIntBits(scalar[i]));
        }
    }

    /**
     * The vector float to f16 against the scalar one, bit for bit: every f16 value, every midpoint
     * between neighbours (ties) and the floats one step either side of it, values past the f16
     * range, tiny values, NaNs with payloads, and random bit patterns.
     */
    @Test
    void vectorFloatToHalfEqualsTheScalarBitForBit() {
        List<Float> values = new ArrayList<>();
        for (int h = 0; h < 1 << 16; h++) {
            float f = Float16.toFloat((short) h);
            values.add(f);
            float next = Float16.toFloat((short) (h + 1));
            if ((h & 0x7FFF) < 0x7BFF) {
                float mid = (f + next) / 2;
                values.add(mid);
                values.add(Math.nextUp(mid));
                values.add(Math.nextDown(mid));
            }
        }
        for (float f : new float[] {65504f, 65519.99f, 65520f, 1e6f, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                0x1p-24f, 0x1p-25f, Math.nextUp(0x1p-25f), 0x1p-26f, Float.MIN_VALUE, 0x1p-14f,
                Math.nextDown(0x1p-14f)}) {
            values.add(f);
            values.add(-f);
        }
        SplittableRandom random = new SplittableRandom(41);
        for (int i = 0; i < 1 << 20; i++) {
            values.add(Float.intBitsToFloat(random.nextInt()));
        }
        float[] in = new float[values.size() + 6];
        for (int i = 0; i < values.size(); i++) {
            in[i] = values.get(i);
        }
        int[] nans = {0x7FC00000, 0x7F800001, 0xFFC01234, 0x7FFFFFFF, 0xFF800400, 0x7FA00000};
        for (int i = 0; i < nans.length; i++) {
            in[values.size() + i] = Float.intBitsToFloat(nans[i]);
        }
        short[] scalar = new short[in.length];
        short[] vector = new short[in.length];
        SCALAR.floatToHalf(in, 0, scalar, 0, in.length);
        // An odd start and length: the scalar tail after the last whole vector.
        VECTOR.floatToHalf(in, 0, vector, 0, 3);
        VECTOR.floatToHalf(in, 3, vector, 3, in.length - 3);
        for (int i = 0; i < in.length; i++) {
            if (vector[i] != scalar[i]) {
                throw new AssertionError("float bits " + Integer.toHexString(Float.floatToRawIntBits(in[i]))
                        + ": vector f16 " + Integer.toHexString(vector[i] & 0xFFFF) + ", scalar "
                        + Integer.toHexString(scalar[i] & 0xFFFF));
            }
        }
        assertThat(scalar[0]).isEqualTo((short) 0);
        assertThat(HalfFloats.fromFloat(1e6f)).isEqualTo((short) 0x7BFF);
    }

    /** The vector kernel's exp against Math.exp over the range softmax uses, within 3e-7 relative. */
    @Test
    void vectorExpIsCloseToMathExpAndZeroBelowTheFloatRange() {
        float[] x = new float[4096];
        for (int i = 0; i < x.length; i++) {
            x[i] = -90f * i / (x.length - 1);
        }
        x[1] = -0f;
        x[2] = Float.NEGATIVE_INFINITY;
        float[] e = new float[x.length];
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        for (int i = 0; i < x.length; i += lanes) {
            VectorAttentionKernel.exp(jdk.incubator.vector.FloatVector.fromArray(
                    jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, x, i)).intoArray(e, i);
        }
        assertThat(e[0]).isEqualTo(1f);
        assertThat(e[1]).isEqualTo(1f);
        assertThat(e[2]).isZero();
        for (int i = 3; i < x.length; i++) {
            double expected = Math.exp(x[i]);
            if (x[i] < -87.3f) {
                assertThat(e[i]).as("exp(%s)", x[i]).isZero();
            } else {
                assertThat(Math.abs(e[i] - expected) / expected).as("exp(%s)", x[i]).isLessThanOrEqualTo(3e-7);
            }
        }
    }

    /** Blocks a multiple of the key step: every block selected is dense attention to the last bit. */
    @ParameterizedTest
    @CsvSource({"64, F32", "128, F16", "32, F32"})
    void blockSparseWithEveryBlockSelectedIsDense(int blockTokens, ElementType type) {
        AttentionShape shape = new AttentionShape(4, 2, 24, 0.2f);
        int first = 2 * blockTokens;
        int tokens = 3 * blockTokens + 5;
        Inputs in = Inputs.random(shape, tokens, first, type, 21);
        int queryBlocks = (tokens + blockTokens - 1) / blockTokens;
        BlockMask all = BlockMask.dense(blockTokens, shape.heads(), first / blockTokens, queryBlocks);
        for (AttentionKernel kernel : List.of(SCALAR, VECTOR)) {
            float[] dense = in.attend(kernel);
            float[] sparse = in.attendSparse(kernel, all);
            if (blockTokens % CpuAttention.KEY_STEP == 0) {
                assertThat(sparse).as(kernel.toString()).containsExactly(dense);
            } else {
                assertThat(maxDifference(sparse, dense)).as(kernel.toString()).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    private static double maxDifference(float[] a, double[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    /** Queries of {@code tokens} tokens at cache rows {@code first ..}, over a cache of random keys and values. */
    private record Inputs(AttentionShape shape, int tokens, int first, float[] q, DeviceBuffer keys,
            DeviceBuffer values) {
        static Inputs random(AttentionShape shape, int tokens, int first, ElementType type, long seed) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int rows = first + tokens;
            float[] q = new float[tokens * shape.queryDim()];
            float[] k = new float[rows * shape.kvDim()];
            float[] v = new float[rows * shape.kvDim()];
            // Queries and keys of a few units give peaked softmaxes, as trained models have.
            fill(q, rnd, 2);
            fill(k, rnd, 2);
            fill(v, rnd, 1);
            return new Inputs(shape, tokens, first, q, buffer(k, type), buffer(v, type));
        }

        private static void fill(float[] a, SplittableRandom rnd, double range) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) ((rnd.nextDouble() * 2 - 1) * range);
            }
        }

        private static DeviceBuffer buffer(float[] values, ElementType type) {
            if (type == ElementType.F32) {
                return new CpuBuffer(values, 0, values.length);
            }
            if (type == ElementType.Q8_0) {
                CpuQ8Buffer q = CpuQ8Buffer.allocate(values.length);
                Q8Blocks.quantize(values, 0, q.quants, q.scales, 0, values.length);
                return q;
            }
            short[] h = new short[values.length];
            HalfFloats.encode(values, 0, h, 0, values.length);
            return new CpuHalfBuffer(h, 0, h.length);
        }

        Inputs asF32() {
            return new Inputs(shape, tokens, first, q, new CpuBuffer(floats(keys), 0, keys.size()),
                    new CpuBuffer(floats(values), 0, values.size()));
        }

        float[] attend(AttentionKernel kernel) {
            return attendPart(kernel, 0, tokens);
        }

        /** Queries {@code from .. from + count - 1} alone, over the cache up to the last of them. */
        float[] attendPart(AttentionKernel kernel, int from, int count) {
            float[] out = new float[count * shape.queryDim()];
            CpuAttention.run(pool, SCRATCH, kernel, q, from * shape.queryDim(), KvRows.of(keys, shape),
                    KvRows.of(values, shape), count, first + from, shape, out, 0);
            return out;
        }

        float[] attendSparse(AttentionKernel kernel, BlockMask mask) {
            float[] out = new float[tokens * shape.queryDim()];
            CpuBlockSparseAttention.run(pool, SCRATCH, kernel, q, 0, KvRows.of(keys, shape),
                    KvRows.of(values, shape), tokens, first, shape, mask, out, 0);
            return out;
        }

        /** Softmax attention in double precision over the stored (maybe rounded or quantized) keys and values. */
        double[] reference() {
            float[] k = floats(keys);
            float[] v = floats(values);
            int dim = shape.headDim();
            double[] out = new double[tokens * shape.queryDim()];
            for (int t = 0; t < tokens; t++) {
                int visible = first + t + 1;
                for (int h = 0; h < shape.heads(); h++) {
                    int qo = t * shape.queryDim() + h * dim;
                    int kvo = (h / shape.groupSize()) * dim;
                    double[] s = new double[visible];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        double dot = 0;
                        for (int d = 0; d < dim; d++) {
                            dot += (double) q[qo + d] * k[j * shape.kvDim() + kvo + d];
                        }
                        s[j] = dot * shape.scale();
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < visible; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < visible; j++) {
                        for (int d = 0; d < dim; d++) {
                            out[qo + d] += s[j] / sum * v[j * shape.kvDim() + kvo + d];
                        }
                    }
                }
            }
            return out;
        }

        private static float[] floats(DeviceBuffer b) {
            float[] f = new float[b.size()];
            if (b instanceof CpuHalfBuffer h) {
                HalfFloats.decode(h.data, h.offset, f, 0, h.size());
            } else if (b instanceof CpuQ8Buffer q) {
                Q8Blocks.dequantize(q.quants, q.scales, q.offset, f, 0, q.size());
            } else {
                CpuBuffer c = (CpuBuffer) b;
                System.arraycopy(c.data, c.offset, f, 0, c.size());
            }
            return f;
        }
    }
}
