package dev.pflash.runtime.pflash;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.BlockSparsity;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.model.LayerWeights;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.model.Weights;
import dev.pflash.runtime.pflash.MemoryLedger.Allocation;
import dev.pflash.runtime.pflash.MemoryLedger.Kind;
import java.util.Arrays;

/**
 * The drafter's pass over a whole prompt (PFLASH.md steps 1, 2 and 6), layer after layer rather
 * than chunk after chunk: the residual stream of every token is kept, and each layer runs over all
 * tokens in chunks before the next layer starts. So only one layer's keys and values exist at a
 * time (one buffer pair, reused by every layer), and the tail queries score each layer's keys as
 * they are made. Attention is FlashPrefill's block-sparse attention.
 *
 * <p>The drafter's output is only its scores: the logits are never computed, and the last layer
 * runs only as far as its keys and the tail's queries, since its attention and feed-forward would
 * feed nothing that scoring reads.
 */
public final class DrafterForward {
    /** Tokens per chunk of the forward pass (rounded down to whole attention blocks). */
    static final int CHUNK_TOKENS = 512;

    private final ModelConfig config;
    private final Weights weights;
    private final Backend backend;
    private final PflashOps ops;
    private final RotaryEmbedding rope;
    private final AttentionShape shape;

    public DrafterForward(ModelConfig config, Weights weights, Backend backend, PflashOps ops) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.ops = ops;
        this.rope = Transformer.rotaryEmbedding(config, weights);
        this.shape = config.attentionShape();
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * Scores every token of {@code tokens} (the drafter's ids of the whole prompt) by the attention
     * the last {@code settings.tailQueries()} tokens pay to it, with {@code settings}' block
     * sparsity and RoPE choice; every buffer is counted in {@code ledger}.
     *
     * @throws IllegalArgumentException for an empty prompt or a token outside the drafter's vocabulary
     */
    public DraftScores score(int[] tokens, CompressionSettings settings, MemoryLedger ledger) {
        int n = tokens.length;
        if (n == 0) {
            throw new IllegalArgumentException("the drafter got an empty prompt to score");
        }
        long start = System.nanoTime();
        BlockSparsity sparsity = new BlockSparsity(settings.blockTokens(), settings.alpha(), settings.sinkBlocks(),
                settings.windowBlocks(), settings.denseLastBlocks());
        int chunkTokens = Math.max(1, CHUNK_TOKENS / sparsity.blockTokens()) * sparsity.blockTokens();
        int chunk = Math.min(chunkTokens, n);
        int e = config.embeddingDim();
        int layers = config.layers();
        boolean attends = layers > 1;
        Clock clock = new Clock();
        int kvFloats = attends ? Math.multiplyExact(n, config.kvDim()) : 0;
        try (Allocation hidden = ledger.allocate(backend, Kind.HIDDEN_STATES, Math.multiplyExact(n, e));
                Allocation keys = ledger.allocate(backend, Kind.KEYS_VALUES, kvFloats);
                Allocation values = ledger.allocate(backend, Kind.KEYS_VALUES, kvFloats);
                ChunkActivations a = new ChunkActivations(ledger, chunk, attends);
                BlockSparseAttention attention = attends
                        ? new BlockSparseAttention(backend, ops, ledger, shape, sparsity, n, chunkTokens) : null;
                TailAttentionScorer scorer = new TailAttentionScorer(backend, ops, ledger, config, rope,
                        settings.scoreBeforeRope(), n, settings.tailQueries())) {
            DeviceBuffer x = hidden.buffer();
            backend.embed(weights.tokenEmbedding(), tokens, x);
            for (int l = 0; l < layers; l++) {
                LayerWeights w = weights.layer(l);
                boolean last = l == layers - 1;
                long t0 = System.nanoTime();
                scorer.beginLayer(w, x);
                clock.scoring += System.nanoTime() - t0;
                for (int from = 0; from < n; from += chunkTokens) {
                    int to = Math.min(n, from + chunkTokens);
                    layerChunk(w, last, x, keys, values, a, attention, scorer, from, to, clock);
                }
                long t1 = System.nanoTime();
                scorer.endLayer();
                clock.scoring += System.nanoTime() - t1;
            }
            long t2 = System.nanoTime();
            float[] scores = scorer.scores();
            long end = System.nanoTime();
            clock.scoring += end - t2;
            DraftStats stats = new DraftStats(n, layers, (end - start - clock.scoring) / 1e6, clock.attention / 1e6,
                    clock.scoring / 1e6, attends ? attention.selectedPairs() : 0, attends ? attention.causalPairs() : 0,
                    ledger.peakBytes(Kind.KEYS_VALUES), ledger.peakBytes());
            return new DraftScores(scores, stats);
        }
    }

    /**
     * One layer over tokens {@code [from, to)}: keys (scored by the tail), and unless this is the last
     * layer, attention and feed-forward into the residual stream.
     */
    private void layerChunk(LayerWeights w, boolean last, DeviceBuffer hidden, Allocation keys, Allocation values,
            ChunkActivations a, BlockSparseAttention attention, TailAttentionScorer scorer, int from, int to,
            Clock clock) {
        int n = to - from;
        int[] positions = new int[n];
        Arrays.setAll(positions, i -> from + i);
        int e = config.embeddingDim();
        int h = config.heads();
        int kv = config.kvHeads();
        int d = config.headDim();
        float eps = config.rmsEps();
        DeviceBuffer x = hidden.slice(from * e, n * e);
        DeviceBuffer normed = a.normed.buffer().slice(0, n * e);
        DeviceBuffer k = a.k.buffer().slice(0, n * config.kvDim());

        backend.rmsNorm(x, w.attentionNorm(), n, e, eps, normed);
        backend.matmul(w.key(), normed, n, k);
        w.keyBias().ifPresent(b -> backend.addBias(k, b, n, config.kvDim()));
        w.keyNorm().ifPresent(g -> backend.rmsNorm(k, g, n * kv, d, eps, k));
        if (scorer.beforeRope()) {
            long t0 = System.nanoTime();
            scorer.addKeys(k, n, from);
            clock.scoring += System.nanoTime() - t0;
        }
        if (!last || !scorer.beforeRope()) {
            backend.rope(k, n, kv, d, positions, rope);
        }
        if (!scorer.beforeRope()) {
            long t0 = System.nanoTime();
            scorer.addKeys(k, n, from);
            clock.scoring += System.nanoTime() - t0;
        }
        if (last) {
            return;
        }

        // Attention: x += Wo · sparse-attention(rope(norm(Wq·h)), keys, values), h = rmsnorm(x).
        DeviceBuffer q = a.q.buffer().slice(0, n * config.queryDim());
        DeviceBuffer v = a.v.buffer().slice(0, n * config.kvDim());
        DeviceBuffer attended = a.attended.buffer().slice(0, n * config.queryDim());
        DeviceBuffer projected = a.projected.buffer().slice(0, n * e);
        backend.matmul(w.query(), normed, n, q);
        backend.matmul(w.value(), normed, n, v);
        w.queryBias().ifPresent(b -> backend.addBias(q, b, n, config.queryDim()));
        w.valueBias().ifPresent(b -> backend.addBias(v, b, n, config.kvDim()));
        w.queryNorm().ifPresent(g -> backend.rmsNorm(q, g, n * h, d, eps, q));
        backend.rope(q, n, h, d, positions, rope);
        backend.copy(k, keys.buffer().slice(from * config.kvDim(), n * config.kvDim()));
        backend.copy(v, values.buffer().slice(from * config.kvDim(), n * config.kvDim()));
        long t0 = System.nanoTime();
        attention.attend(q, keys.buffer(), values.buffer(), n, from, attended);
        clock.attention += System.nanoTime() - t0;
        backend.matmul(w.attentionOutput(), attended, n, projected);
        backend.add(x, projected, n * e);

        // Feed-forward: x += Wdown · (silu(Wgate·h) * Wup·h), h = rmsnorm(x).
        DeviceBuffer gate = a.gate.buffer().slice(0, n * config.ffnDim());
        DeviceBuffer up = a.up.buffer().slice(0, n * config.ffnDim());
        backend.rmsNorm(x, w.ffnNorm(), n, e, eps, normed);
        backend.matmul(w.ffnGate(), normed, n, gate);
        backend.matmul(w.ffnUp(), normed, n, up);
        backend.swiglu(gate, up, n * config.ffnDim(), gate);
        backend.matmul(w.ffnDown(), gate, n, projected);
        backend.add(x, projected, n * e);
    }

    /** Nanoseconds spent in FlashPrefill attention and in tail scoring during one pass. */
    private static final class Clock {
        long attention;
        long scoring;
    }

    /** The activation buffers of one chunk; those only attention needs are empty when no layer attends. */
    private final class ChunkActivations implements AutoCloseable {
        final Allocation normed;
        final Allocation k;
        final Allocation q;
        final Allocation v;
        final Allocation attended;
        final Allocation projected;
        final Allocation gate;
        final Allocation up;

        ChunkActivations(MemoryLedger ledger, int tokens, boolean attends) {
            int e = config.embeddingDim();
            normed = ledger.allocate(backend, Kind.ACTIVATIONS, tokens * e);
            k = ledger.allocate(backend, Kind.ACTIVATIONS, tokens * config.kvDim());
            int full = attends ? tokens : 0;
            q = ledger.allocate(backend, Kind.ACTIVATIONS, full * config.queryDim());
            v = ledger.allocate(backend, Kind.ACTIVATIONS, full * config.kvDim());
            attended = ledger.allocate(backend, Kind.ACTIVATIONS, full * config.queryDim());
            projected = ledger.allocate(backend, Kind.ACTIVATIONS, full * e);
            gate = ledger.allocate(backend, Kind.ACTIVATIONS, full * config.ffnDim());
            up = ledger.allocate(backend, Kind.ACTIVATIONS, full * config.ffnDim());
        }

        @Override
        public void close() {
            for (Allocation x : new Allocation[] {normed, k, q, v, attended, projected, gate, up}) {
                x.close();
            }
        }
    }
}
