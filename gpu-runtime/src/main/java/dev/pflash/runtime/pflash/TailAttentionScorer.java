package dev.pflash.runtime.pflash;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.model.LayerWeights;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.pflash.MemoryLedger.Allocation;
import dev.pflash.runtime.pflash.MemoryLedger.Kind;

/**
 * Tail-attention scoring (PFLASH.md step 2), one layer at a time: how much attention the last
 * {@code N} prompt tokens pay to each token, as real softmax probabilities, maximised over layers
 * and heads and averaged over the tail queries. Per layer: the tail's queries are computed from the
 * layer input before the layer runs ({@link #beginLayer}); the layer's keys are scored as they are
 * produced, chunk by chunk ({@link #addKeys}); the probabilities fold into the running maximum when
 * the layer is done ({@link #endLayer}). So scoring needs no layer's keys once that layer is over.
 */
final class TailAttentionScorer implements AutoCloseable {
    private final Backend backend;
    private final PflashOps ops;
    private final ModelConfig config;
    private final AttentionShape shape;
    private final RotaryEmbedding rope;
    private final boolean beforeRope;
    private final int totalTokens;
    private final int tail;
    private final int[] tailPositions;
    private final Allocation normed;
    private final Allocation queries;
    private final Allocation logits;
    private final Allocation maxProbs;

    TailAttentionScorer(Backend backend, PflashOps ops, MemoryLedger ledger, ModelConfig config, RotaryEmbedding rope,
            boolean beforeRope, int totalTokens, int tailQueries) {
        this.backend = backend;
        this.ops = ops;
        this.config = config;
        this.shape = config.attentionShape();
        this.rope = rope;
        this.beforeRope = beforeRope;
        this.totalTokens = totalTokens;
        this.tail = Math.min(tailQueries, totalTokens);
        this.tailPositions = new int[tail];
        for (int t = 0; t < tail; t++) {
            tailPositions[t] = totalTokens - tail + t;
        }
        this.normed = ledger.allocate(backend, Kind.SCORING, tail * config.embeddingDim());
        this.queries = ledger.allocate(backend, Kind.SCORING, tail * config.queryDim());
        this.logits = ledger.allocate(backend, Kind.SCORING, Math.multiplyExact(tail * config.heads(), totalTokens));
        this.maxProbs = ledger.allocate(backend, Kind.SCORING, Math.multiplyExact(tail, totalTokens));
    }

    /** Whether keys are scored before RoPE rotates them (the reference default). */
    boolean beforeRope() {
        return beforeRope;
    }

    /**
     * Computes the tail queries of layer {@code w} from the layer input {@code hidden} (every
     * token's residual stream): RMSNorm, query projection, bias, per-head q-norm, and RoPE unless
     * scoring is before RoPE.
     */
    void beginLayer(LayerWeights w, DeviceBuffer hidden) {
        int e = config.embeddingDim();
        DeviceBuffer x = hidden.slice((totalTokens - tail) * e, tail * e);
        DeviceBuffer q = queries.buffer();
        backend.rmsNorm(x, w.attentionNorm(), tail, e, config.rmsEps(), normed.buffer());
        backend.matmul(w.query(), normed.buffer(), tail, q);
        w.queryBias().ifPresent(b -> backend.addBias(q, b, tail, config.queryDim()));
        w.queryNorm().ifPresent(g -> backend.rmsNorm(q, g, tail * config.heads(), config.headDim(), config.rmsEps(),
                q));
        if (!beforeRope) {
            backend.rope(q, tail, config.heads(), config.headDim(), tailPositions, rope);
        }
    }

    /** Scores {@code rows} keys of the current layer, tokens {@code firstKey ..}, held in {@code keys}. */
    void addKeys(DeviceBuffer keys, int rows, int firstKey) {
        ops.tailLogits(queries.buffer(), tail, keys, rows, firstKey, shape, totalTokens, logits.buffer());
    }

    /** Folds the current layer's probabilities, every key scored, into the running maximum. */
    void endLayer() {
        ops.tailProbabilityMax(logits.buffer(), tail, config.heads(), totalTokens, maxProbs.buffer());
    }

    /** {@code score[j]}: the mean over the tail queries of the maximum probability over layers and heads. */
    float[] scores() {
        float[] max = new float[tail * totalTokens];
        backend.read(maxProbs.buffer(), max, 0);
        float[] scores = new float[totalTokens];
        for (int j = 0; j < totalTokens; j++) {
            double sum = 0;
            for (int t = 0; t < tail; t++) {
                sum += max[t * totalTokens + j];
            }
            scores[j] = (float) (sum / tail);
        }
        return scores;
    }

    @Override
    public void close() {
        normed.close();
        queries.close();
        logits.close();
        maxProbs.close();
    }
}
