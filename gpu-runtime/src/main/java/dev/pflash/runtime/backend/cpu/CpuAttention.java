package dev.pflash.runtime.backend.cpu;

import dev.pflash.runtime.backend.AttentionShape;
import java.util.ArrayList;
import java.util.List;

/**
 * Causal grouped-query flash attention over a token-major KV cache (f32 or f16), on an
 * {@link AttentionKernel}. Keys are taken in steps of {@link #KEY_STEP} starting at multiples of
 * it, with an online softmax (running max and sum; what was accumulated is rescaled when the max
 * grows), and the softmax restarts at every multiple of {@link #SEGMENT} keys, the segments' states
 * merged in order afterwards.
 *
 * <p>A prefill chunk runs one task per (kv head, tile of {@link #TILE_TOKENS} queries): the rows
 * of a task are every query head of the group for every token of the tile, so each step of keys
 * and values is loaded (and, in f16, converted) once for all of them. A decode step (fewer
 * queries) runs one task per (key segment, run of adjacent kv heads), so a long cache is split
 * over the threads by its keys and each task reads whole runs of cache rows; the segments'
 * states are merged once all are done. The decode steps of a batch's sequences, each over its
 * own cache, run as one such dispatch.
 *
 * <p>Both ways do, for each query, the same operations in the same order (steps, segments and
 * merges sit at fixed key indices, and a key a query may not see is skipped, never weighed by 0):
 * the output of a query is bit-identical whether its prompt was prefilled in one chunk, in steps
 * or token by token, and a query never sees a later key.
 */
final class CpuAttention {
    /** Keys per online-softmax step. */
    static final int KEY_STEP = 64;
    /**
     * Keys per softmax segment; a multiple of {@link #KEY_STEP}. Segments are what a decode step
     * splits over the threads: with 1024 a cache under 1024 keys gave one thread all the keys, or
     * tasks of one kv head each, which read 256 bytes of every 2 KiB row. With 256, 28 layers of
     * f16 attention at 600 keys ran in 8-9 ms against 17-20, and at 2048 in 25-28 ms against 40-58.
     * Merging a segment costs a few operations per query dim, nothing beside its 256 keys.
     */
    static final int SEGMENT = 256;
    /**
     * Query tokens per prefill task; fewer tokens run as a split decode. Each step of keys and
     * values is read (and, in f16, converted) once per task, so bigger tiles read the cache fewer
     * times: 32 tokens ran the 64-query, 4096-key f16 attention in 75-81 ms against 94-96 ms with 16
     * (JMH {@code CpuAttentionBenchmark}, 2 threads, AVX2).
     */
    static final int TILE_TOKENS = 32;

    /**
     * Split-decode tasks wanted per thread. One is enough once segments are short: more tasks
     * meant fewer heads per task, and shorter runs of each cache row read at a time.
     */
    static final int TASKS_PER_THREAD = 1;

    private CpuAttention() {
    }

    static void run(CpuThreadPool pool, ThreadLocal<AttentionScratch> scratch, AttentionKernel kernel, float[] q,
            int qOff, KvRows keys, KvRows values, int tokens, int firstIndex, AttentionShape shape, float[] out,
            int outOff) {
        run(pool, scratch, kernel, List.of(new Chunk(q, qOff, keys, values, tokens, firstIndex, out, outOff)), shape);
    }

    /**
     * Each chunk over its own cache: those of {@link #TILE_TOKENS} tokens or more one after the
     * other in tiles, the shorter ones (a batch's decode steps) together in one split decode.
     */
    static void run(CpuThreadPool pool, ThreadLocal<AttentionScratch> scratch, AttentionKernel kernel,
            List<Chunk> chunks, AttentionShape shape) {
        List<Chunk> decodes = new ArrayList<>(chunks.size());
        for (Chunk c : chunks) {
            if (c.tokens() >= TILE_TOKENS) {
                tiles(pool, scratch, kernel, c, shape);
            } else if (c.tokens() > 0) {
                decodes.add(c);
            }
        }
        if (!decodes.isEmpty()) {
            splitDecode(pool, scratch, kernel, decodes, shape);
        }
    }

    /** One task per (kv head, tile of {@link #TILE_TOKENS} queries) of chunk {@code c}. */
    private static void tiles(CpuThreadPool pool, ThreadLocal<AttentionScratch> scratch, AttentionKernel kernel,
            Chunk c, AttentionShape shape) {
        int tiles = (c.tokens() + TILE_TOKENS - 1) / TILE_TOKENS;
        int kvHeads = shape.kvHeads();
        // Later tiles see more keys; handing them out first evens the threads' finishing times.
        pool.forRange(kvHeads * tiles, 1, (from, to) -> {
            AttentionScratch s = scratch.get();
            for (int task = from; task < to; task++) {
                int t0 = (tiles - 1 - task / kvHeads) * TILE_TOKENS;
                tile(kernel, s, c.q(), c.qOff(), c.keys(), c.values(), t0, Math.min(TILE_TOKENS, c.tokens() - t0),
                        c.firstIndex(), shape, task % kvHeads, c.out(), c.outOff());
            }
        });
    }

    /** Tokens {@code t0 .. t0 + nt - 1} of the chunk, all query heads of kv head {@code g}. */
    private static void tile(AttentionKernel kernel, AttentionScratch s, float[] q, int qOff, KvRows keys,
            KvRows values, int t0, int nt, int firstIndex, AttentionShape shape, int g, float[] out, int outOff) {
        int dim = shape.headDim();
        int rows = nt * shape.groupSize();
        float[] qs = s.queries(rows * dim);
        int[] last = s.last(rows);
        loadQueries(q, qOff, t0, nt, firstIndex, shape, g, qs, last);
        float[] qt = s.transposedQueries(AttentionKernel.transposedFloats(rows, dim));
        AttentionKernel.transposeQueries(qs, rows, dim, qt);
        int end = firstIndex + t0 + nt;
        s.total.reset(rows, dim);
        for (int s0 = 0; s0 < end; s0 += SEGMENT) {
            s.segment.reset(rows, dim);
            segment(kernel, s, keys, values, qs, qt, last, rows, dim, s.segment, g * dim, s0,
                    Math.min(end, s0 + SEGMENT));
            s.total.merge(s.segment);
        }
        for (int r = 0; r < rows; r++) {
            s.total.finish(r, out, outOff + outputIndex(r, t0, shape, g));
        }
    }

    /**
     * Fewer queries than a tile, of one or more sequences each over its own cache (a packed decode
     * step): one task per (sequence, key segment, run of kv heads), each head into its own state,
     * all in one dispatch; then per sequence and kv head the segments merged in order, as
     * {@link #tile} merges them. A sequence's queries thus get the same bits alone or in a batch,
     * whatever the runs of heads.
     *
     * <p>A task takes as many adjacent kv heads as still leaves {@link #TASKS_PER_THREAD} tasks per
     * thread: it reads each cache row's part for its heads in one pass, a contiguous run of bytes,
     * where one head per task read 256 bytes of f16 and skipped the rest of the row, and the
     * hardware prefetcher did not follow.
     */
    private static void splitDecode(CpuThreadPool pool, ThreadLocal<AttentionScratch> scratch,
            AttentionKernel kernel, List<Chunk> decodes, AttentionShape shape) {
        int kvHeads = shape.kvHeads();
        int n = decodes.size();
        int segmentsInAll = 0;
        for (Chunk d : decodes) {
            segmentsInAll += d.segments();
        }
        int span = headsPerTask(kvHeads, segmentsInAll, pool.threads());
        int runs = kvHeads / span;
        AttentionScratch caller = scratch.get();
        int[] starts = caller.taskStarts(2 * (n + 1));
        // starts[c]: chunk c's first task; starts[n + 1 + c]: its first state, one per (kv head, segment).
        starts[n + 1] = 0;
        for (int c = 0; c < n; c++) {
            starts[c + 1] = starts[c] + runs * decodes.get(c).segments();
            starts[n + 2 + c] = starts[n + 1 + c] + kvHeads * decodes.get(c).segments();
        }
        SoftmaxState[] states = caller.splits(starts[2 * n + 1]);
        pool.forRange(starts[n], 1, (from, to) -> {
            AttentionScratch s = scratch.get();
            int dim = shape.headDim();
            int c = 0;
            for (int task = from; task < to; task++) {
                while (task >= starts[c + 1]) {
                    c++;
                }
                Chunk d = decodes.get(c);
                int segments = d.segments();
                int h0 = (task - starts[c]) / segments * span;
                int segment = (task - starts[c]) % segments;
                int rows = d.tokens() * shape.groupSize();
                float[][] qs = s.headQueries(span, rows * dim);
                int[] last = s.last(rows);
                int first = starts[n + 1 + c] + h0 * segments + segment;
                for (int i = 0; i < span; i++) {
                    loadQueries(d.q(), d.qOff(), 0, d.tokens(), d.firstIndex(), shape, h0 + i, qs[i], last);
                    states[first + i * segments].reset(rows, dim);
                }
                int end = Math.min(d.end(), (segment + 1) * SEGMENT);
                for (int j0 = segment * SEGMENT; j0 < end; j0 += KEY_STEP) {
                    d.keys().stepHeads(kernel, s, d.values(), qs, last, rows, dim, states, first, segments, h0, span,
                            j0, Math.min(KEY_STEP, end - j0));
                }
            }
        });
        for (int c = 0; c < n; c++) {
            Chunk d = decodes.get(c);
            int segments = d.segments();
            int rows = d.tokens() * shape.groupSize();
            for (int g = 0; g < kvHeads; g++) {
                int first = starts[n + 1 + c] + g * segments;
                SoftmaxState total = states[first];
                for (int i = 1; i < segments; i++) {
                    total.merge(states[first + i]);
                }
                for (int r = 0; r < rows; r++) {
                    total.finish(r, d.out(), d.outOff() + outputIndex(r, 0, shape, g));
                }
            }
        }
    }

    /**
     * The most adjacent kv heads per split-decode task (a divisor of {@code kvHeads}) that still
     * leaves {@link #TASKS_PER_THREAD} tasks per thread over {@code segments} key segments in all.
     */
    static int headsPerTask(int kvHeads, int segments, int threads) {
        for (int span = kvHeads; span > 1; span--) {
            if (kvHeads % span == 0 && (long) segments * (kvHeads / span) >= (long) TASKS_PER_THREAD * threads) {
                return span;
            }
        }
        return 1;
    }

    /**
     * The chunk of one sequence: {@code tokens} queries at {@code qOff}, over the cache rows
     * {@code 0 .. firstIndex + tokens - 1} of {@code keys} and {@code values}, into {@code out} at
     * {@code outOff}.
     */
    record Chunk(float[] q, int qOff, KvRows keys, KvRows values, int tokens, int firstIndex, float[] out,
            int outOff) {
        int end() {
            return firstIndex + tokens;
        }

        int segments() {
            return (end() + SEGMENT - 1) / SEGMENT;
        }
    }

    /** Keys {@code from .. to - 1} (one segment) in steps of {@link #KEY_STEP} into {@code state}. */
    private static void segment(AttentionKernel kernel, AttentionScratch s, KvRows keys, KvRows values, float[] qs,
            float[] qt, int[] last, int rows, int dim, SoftmaxState state, int head, int from, int to) {
        for (int j0 = from; j0 < to; j0 += KEY_STEP) {
            keys.step(kernel, s, values, qs, qt, last, rows, dim, state, head, j0, Math.min(KEY_STEP, to - j0));
        }
    }

    /**
     * Scaled queries of tokens {@code t0 .. t0 + nt - 1} for the query heads of kv head {@code g},
     * row {@code t * groupSize + i} for head {@code g * groupSize + i}, and each row's last visible key.
     */
    private static void loadQueries(float[] q, int qOff, int t0, int nt, int firstIndex, AttentionShape shape, int g,
            float[] qs, int[] last) {
        int dim = shape.headDim();
        int group = shape.groupSize();
        float scale = shape.scale();
        for (int t = 0; t < nt; t++) {
            for (int i = 0; i < group; i++) {
                int r = t * group + i;
                int qo = qOff + (t0 + t) * shape.queryDim() + (g * group + i) * dim;
                for (int d = 0; d < dim; d++) {
                    qs[r * dim + d] = q[qo + d] * scale;
                }
                last[r] = firstIndex + t0 + t;
            }
        }
    }

    /** Where row {@code r} of a tile starting at token {@code t0} of kv head {@code g} goes in the output. */
    private static int outputIndex(int r, int t0, AttentionShape shape, int g) {
        int group = shape.groupSize();
        return (t0 + r / group) * shape.queryDim() + (g * group + r % group) * shape.headDim();
    }
}
