package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.AttentionChunk;
import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeltaNetShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.RotaryEmbedding;
import dev.pflash.runtime.gguf.ModelFile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A decoder-only transformer (qwen3, llama, qwen2, and the qwen35 hybrid whose blocks mix tokens by
 * gated attention or Gated DeltaNet) whose forward pass runs as backend ops. Tokens
 * go through in chunks of at most {@link #chunkSize()}: each chunk is one matrix-times-matrix
 * prefill step, so activation memory stays bounded however long the prompt. A transformer keeps
 * no state between calls; each sequence has its own {@link KvCache}, which only one call may use
 * at a time.
 */
public final class Transformer implements AutoCloseable {
    public static final int DEFAULT_CHUNK_SIZE = 512;
    /** Tokens whose logits are computed at once in ALL mode: bounds the logits buffer (a vocab of floats each). */
    private static final int LOGITS_ROWS = 64;

    private static final Logger LOG = LoggerFactory.getLogger(Transformer.class);

    private final ModelConfig config;
    private final Weights weights;
    private final Backend backend;
    private final int chunkSize;
    private final RotaryEmbedding rope;
    private final AttentionShape attention;
    /**
     * The activations of the last call that finished, kept for the next one: a decode loop then
     * allocates no backend buffers per token. Calls running at once each take their own.
     */
    private final AtomicReference<Activations> idle = new AtomicReference<>();

    public Transformer(ModelConfig config, Weights weights, Backend backend, int chunkSize) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunk size must be >= 1, got " + chunkSize);
        }
        requireLayerSupport(config, backend);
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.chunkSize = chunkSize;
        this.rope = rotaryEmbedding(config, weights);
        this.attention = config.attentionShape();
    }

    private static void requireLayerSupport(ModelConfig config, Backend backend) {
        if (config.hybrid().isPresent() && !backend.runsHybridLayers()) {
            throw new IllegalStateException("model " + config.name() + " has Gated DeltaNet layers (qwen35), which the "
                    + backend.name() + " backend does not run yet; use --backend=cpu");
        }
    }

    /**
     * The model's RoPE: its style, rotated dims and base, with per-pair divisors from rope_freqs
     * and the linear scale. Any forward over this model's weights (the drafter's too) uses this.
     */
    public static RotaryEmbedding rotaryEmbedding(ModelConfig config, Weights weights) {
        return RotaryEmbedding.of(config.architecture().ropeStyle(), config.ropeDims(), config.ropeBase(),
                frequencyDivisors(config, weights));
    }

    /** Per-pair RoPE divisors: the file's rope_freqs times the linear scale; null when all are 1. */
    private static float[] frequencyDivisors(ModelConfig config, Weights weights) {
        if (weights.ropeFrequencyDivisors().isEmpty() && config.ropeScale() == 1f) {
            return null;
        }
        float[] divisors = weights.ropeFrequencyDivisors().map(float[]::clone).orElseGet(() -> {
            float[] ones = new float[config.ropeDims() / 2];
            Arrays.fill(ones, 1f);
            return ones;
        });
        for (int i = 0; i < divisors.length; i++) {
            divisors[i] *= config.ropeScale();
        }
        return divisors;
    }

    /** Reads the config and uploads the weights of {@code file} to {@code backend}; chunks of {@link #DEFAULT_CHUNK_SIZE}. */
    public static Transformer load(ModelFile file, Backend backend) {
        return load(file, backend, DEFAULT_CHUNK_SIZE);
    }

    public static Transformer load(ModelFile file, Backend backend, int chunkSize) {
        long t0 = System.nanoTime();
        ModelConfig config = ModelConfig.fromMetadata(file.metadata(), file);
        requireLayerSupport(config, backend);
        Weights weights = Weights.load(file, config, backend);
        Transformer t = new Transformer(config, weights, backend, chunkSize);
        LOG.info("Loaded {} ({}, {} layers, E={}, H={}/{}, D={}, vocab {}, context {}, {} parameters) on {} in {} ms",
                config.name(), config.architecture().key(), config.layers(), config.embeddingDim(), config.heads(),
                config.kvHeads(), config.headDim(), config.vocabSize(), config.contextLength(),
                config.parameterCount(), backend, (System.nanoTime() - t0) / 1_000_000);
        return t;
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    public Backend backend() {
        return backend;
    }

    public int chunkSize() {
        return chunkSize;
    }

    /**
     * Positions at which a sequence may stop and resume (after a prefix cache hit, say) with its
     * DeltaNet layers chunking tokens exactly as in one unbroken prefill: chunks of
     * {@link DeltaNetShape#CHUNK} start at every multiple of it when the chunk size is a multiple
     * of it, else at every multiple of the chunk size.
     */
    public int resumeAlignment() {
        return chunkSize % DeltaNetShape.CHUNK == 0 ? DeltaNetShape.CHUNK : chunkSize;
    }

    /** An empty KV cache of the {@link KvCache#DEFAULT_TYPE} for one sequence of this model. */
    public KvCache newCache() {
        return new KvCache(config, backend);
    }

    /** An empty KV cache for one sequence of this model, storing keys and values as {@code type}. */
    public KvCache newCache(ElementType type) {
        return new KvCache(config, backend, type);
    }

    /**
     * Prefills {@code tokens} after what {@code cache} holds and returns the logits of the last token.
     *
     * @throws IllegalArgumentException if the cached and new tokens together exceed the context window
     */
    public float[] prefill(KvCache cache, int[] tokens) {
        return forward(cache, tokens, cache.length(), LogitsMode.LAST);
    }

    /**
     * Runs tokens at positions {@code startPos ..} through the model, appending their keys and
     * values to {@code cache}.
     *
     * @param startPos must equal {@code cache.length()}: the cache holds every earlier position
     * @return the logits {@code mode} asks for: {@code vocab} floats (LAST), {@code n * vocab} (ALL) or none (NONE, empty array)
     * @throws IllegalArgumentException for an empty chunk, a wrong start position, a token outside
     *     the vocabulary or a sequence longer than the context window
     */
    public float[] forward(KvCache cache, int[] tokens, int startPos, LogitsMode mode) {
        if (startPos != cache.length()) {
            throw new IllegalArgumentException("start position " + startPos + " must equal the cache length "
                    + cache.length());
        }
        int[] positions = new int[tokens.length];
        Arrays.setAll(positions, i -> startPos + i);
        return forward(cache, tokens, positions, mode);
    }

    /**
     * As {@link #forward(KvCache, int[], int, LogitsMode)} but with an explicit RoPE position per
     * token (e.g. the original positions of tokens kept after prompt compression); the tokens are
     * still appended to the cache in order and attend causally by cache row.
     */
    public float[] forward(KvCache cache, int[] tokens, int[] positions, LogitsMode mode) {
        checkInput(cache, tokens, positions);
        int n = tokens.length;
        int vocab = config.vocabSize();
        float[] logits = switch (mode) {
            case LAST -> new float[vocab];
            case ALL -> new float[Math.multiplyExact(n, vocab)];
            case NONE -> new float[0];
        };
        cache.reserve(cache.length() + n);
        Activations a = takeActivations(Math.min(n, chunkSize));
        try {
            for (int from = 0; from < n; from += chunkSize) {
                int to = Math.min(n, from + chunkSize);
                int[] chunk = Arrays.copyOfRange(tokens, from, to);
                int[] chunkPositions = Arrays.copyOfRange(positions, from, to);
                forwardChunk(cache, chunk, chunkPositions, a);
                if (mode == LogitsMode.ALL) {
                    for (int t = 0, count; t < to - from; t += count) {
                        count = logitsGroup(to - from - t);
                        logits(a, t, count, logits, (from + t) * vocab);
                    }
                } else if (mode == LogitsMode.LAST && to == n) {
                    logits(a, to - from - 1, 1, logits, 0);
                }
            }
        } finally {
            returnActivations(a);
        }
        return logits;
    }

    /**
     * Runs several sequences in one pass, packed: their new tokens share chunks of up to
     * {@link #chunkSize()} rows with no padding, so that each weight matrix is applied to all of
     * them at once, while each token attends only to its own sequence's cache. Sequence {@code s}
     * appends {@code tokens.get(s)} at RoPE positions {@code positions.get(s)} to
     * {@code caches.get(s)}. What a sequence gets equals what
     * {@link #forward(KvCache, int[], int[], LogitsMode)} gives it alone, to the last bit on a
     * backend whose ops compute each row independently of the chunk around it (the CPU
     * backend's do).
     *
     * @return per sequence, in order, the logits {@code mode} asks for, laid out as {@code forward} returns them
     * @throws IllegalArgumentException as {@code forward} does for any sequence, or when two sequences share a cache
     */
    public List<float[]> forwardPacked(List<KvCache> caches, List<int[]> tokens, List<int[]> positions,
            LogitsMode mode) {
        int vocab = config.vocabSize();
        List<float[]> logits = new ArrayList<>(caches.size());
        for (int[] t : tokens) {
            logits.add(switch (mode) {
                case LAST -> new float[vocab];
                case ALL -> new float[Math.multiplyExact(t.length, vocab)];
                case NONE -> new float[0];
            });
        }
        return forwardPacked(caches, tokens, positions, mode, logits);
    }

    /**
     * As {@link #forwardPacked(List, List, List, LogitsMode)} with {@link LogitsMode#LAST}, each
     * sequence's logits written into the caller's {@code lastLogits.get(s)} (at least vocabulary
     * size floats): a decode loop that keeps these arrays allocates no logits per step.
     */
    public void forwardPacked(List<KvCache> caches, List<int[]> tokens, List<int[]> positions,
            List<float[]> lastLogits) {
        for (int s = 0; s < lastLogits.size(); s++) {
            if (lastLogits.get(s).length < config.vocabSize()) {
                throw new IllegalArgumentException("logits array " + s + " holds " + lastLogits.get(s).length
                        + " floats, fewer than the " + config.vocabSize() + " of model " + config.name());
            }
        }
        forwardPacked(caches, tokens, positions, LogitsMode.LAST, lastLogits);
    }

    private List<float[]> forwardPacked(List<KvCache> caches, List<int[]> tokens, List<int[]> positions,
            LogitsMode mode, List<float[]> logits) {
        int sequences = caches.size();
        if (tokens.size() != sequences || positions.size() != sequences) {
            throw new IllegalArgumentException(sequences + " caches, " + tokens.size() + " token lists and "
                    + positions.size() + " position lists: give one of each per sequence");
        }
        if (logits.size() != sequences) {
            throw new IllegalArgumentException(sequences + " caches and " + logits.size()
                    + " logits arrays: give one per sequence");
        }
        Set<KvCache> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        int total = 0;
        for (int s = 0; s < sequences; s++) {
            KvCache cache = caches.get(s);
            int n = tokens.get(s).length;
            if (!distinct.add(cache)) {
                throw new IllegalArgumentException("sequence " + s + " shares its KV cache with an earlier sequence;"
                        + " each sequence needs its own");
            }
            checkInput(cache, tokens.get(s), positions.get(s));
            total = Math.addExact(total, n);
        }
        for (int s = 0; s < sequences; s++) {
            caches.get(s).reserve(caches.get(s).length() + tokens.get(s).length);
        }
        if (total == 0) {
            return logits;
        }
        Activations a = takeActivations(Math.min(total, chunkSize));
        try {
            List<Piece> chunk = new ArrayList<>();
            int size = 0;
            for (int s = 0; s < sequences; s++) {
                int n = tokens.get(s).length;
                int from = 0;
                while (from < n) {
                    int take = Math.min(n - from, chunkSize - size);
                    chunk.add(new Piece(s, from, from + take));
                    size += take;
                    from += take;
                    if (size == chunkSize) {
                        forwardPackedChunk(chunk, caches, tokens, positions, mode, logits, a);
                        chunk.clear();
                        size = 0;
                    }
                }
            }
            if (!chunk.isEmpty()) {
                forwardPackedChunk(chunk, caches, tokens, positions, mode, logits, a);
            }
        } finally {
            returnActivations(a);
        }
        return logits;
    }

    /** Tokens {@code from .. to} of sequence {@code sequence}, packed into one chunk. */
    private record Piece(int sequence, int from, int to) {
        int count() {
            return to - from;
        }
    }

    private void forwardPackedChunk(List<Piece> pieces, List<KvCache> caches, List<int[]> tokens,
            List<int[]> positions, LogitsMode mode, List<float[]> logits, Activations a) {
        int n = pieces.stream().mapToInt(Piece::count).sum();
        int[] chunkTokens = new int[n];
        int[] chunkPositions = new int[n];
        List<Segment> segments = new ArrayList<>(pieces.size());
        int offset = 0;
        for (Piece p : pieces) {
            System.arraycopy(tokens.get(p.sequence()), p.from(), chunkTokens, offset, p.count());
            System.arraycopy(positions.get(p.sequence()), p.from(), chunkPositions, offset, p.count());
            segments.add(new Segment(caches.get(p.sequence()), offset, p.count()));
            offset += p.count();
        }
        forwardChunk(segments, chunkTokens, chunkPositions, a);
        if (mode == LogitsMode.ALL) {
            int vocab = config.vocabSize();
            for (int i = 0; i < pieces.size(); i++) {
                Piece p = pieces.get(i);
                for (int t = 0, count; t < p.count(); t += count) {
                    count = logitsGroup(p.count() - t);
                    logits(a, segments.get(i).offset() + t, count, logits.get(p.sequence()), (p.from() + t) * vocab);
                }
            }
        } else if (mode == LogitsMode.LAST) {
            lastLogits(pieces, segments, tokens, logits, a);
        }
    }

    /**
     * The next group of at most {@link #LOGITS_ROWS} of {@code remaining} rows for the LM head: groups
     * of nearly equal size, so that rows that come many at once (a prefill chunk) go through the
     * LM head many at once, with no small remainder: the CPU's matmul sums calls of few and of
     * many tokens in different orders ({@code CpuBackend.PANEL_TOKENS}).
     */
    static int logitsGroup(int remaining) {
        int groups = (remaining + LOGITS_ROWS - 1) / LOGITS_ROWS;
        return (remaining + groups - 1) / groups;
    }

    /**
     * The logits of each sequence whose last token is in this chunk. Those rows are adjacent when
     * each sequence brings one token (a decode step of a batch): the LM head then runs over
     * {@link #LOGITS_ROWS} of them at a time.
     */
    private void lastLogits(List<Piece> pieces, List<Segment> segments, List<int[]> tokens, List<float[]> logits,
            Activations a) {
        int vocab = config.vocabSize();
        List<Integer> rows = new ArrayList<>();
        List<float[]> targets = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            if (p.to() == tokens.get(p.sequence()).length) {
                rows.add(segments.get(i).offset() + p.count() - 1);
                targets.add(logits.get(p.sequence()));
            }
        }
        int i = 0;
        while (i < rows.size()) {
            int run = 1;
            while (i + run < rows.size() && run < LOGITS_ROWS && rows.get(i + run) == rows.get(i) + run) {
                run++;
            }
            DeviceBuffer out = lmHead(a, rows.get(i), run);
            for (int j = 0; j < run; j++) {
                backend.read(out.slice(j * vocab, vocab), targets.get(i + j), 0);
            }
            i += run;
        }
    }

    private void checkInput(KvCache cache, int[] tokens, int[] positions) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to run through model " + config.name());
        }
        if (positions.length != tokens.length) {
            throw new IllegalArgumentException(positions.length + " positions for " + tokens.length + " tokens");
        }
        for (int i = 0; i < positions.length; i++) {
            if (positions[i] < 0) {
                throw new IllegalArgumentException("position " + positions[i] + " at index " + i + " is negative");
            }
        }
        if (!cache.config().equals(config)) {
            throw new IllegalArgumentException("the KV cache belongs to model " + cache.config().name()
                    + ", not " + config.name());
        }
        long total = (long) cache.length() + tokens.length;
        if (total > config.contextLength()) {
            throw new IllegalArgumentException(cache.length() == 0
                    ? "prompt of " + tokens.length + " tokens exceeds the context window of "
                            + config.contextLength() + " tokens of model " + config.name()
                    : "sequence of " + total + " tokens (" + cache.length() + " cached + " + tokens.length
                            + " new) exceeds the context window of " + config.contextLength() + " tokens of model "
                            + config.name());
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i
                        + " is outside the vocabulary of " + config.vocabSize() + " tokens of model " + config.name());
            }
        }
    }

    /** One chunk through every layer; its keys and values join the cache. */
    private void forwardChunk(KvCache cache, int[] tokens, int[] positions, Activations a) {
        forwardChunk(List.of(new Segment(cache, 0, tokens.length)), tokens, positions, a);
    }

    /**
     * One chunk of packed segments through every layer: the matmuls and norms run over all of
     * the chunk's rows at once; each segment stores its keys and values in its own cache and
     * attends over that cache only.
     */
    private void forwardChunk(List<Segment> segments, int[] tokens, int[] positions, Activations a) {
        int n = tokens.length;
        int[] starts = new int[segments.size()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = segments.get(i).cache().length();
        }
        int e = config.embeddingDim();
        float eps = config.rmsEps();

        backend.embed(weights.tokenEmbedding(), tokens, a.x);
        for (int l = 0; l < config.layers(); l++) {
            BlockWeights block = weights.block(l);

            // Token mixing: x += Mixer(h), h = rmsnorm(x); the mixer leaves its output in a.projected.
            backend.rmsNorm(a.x, block.attentionNorm(), n, e, eps, a.normed);
            if (block instanceof LayerWeights w) {
                attention(l, w, segments, starts, positions, a);
            } else {
                deltaNet(l, (DeltaNetWeights) block, segments, n, a);
            }
            backend.add(a.x, a.projected, n * e);

            // Feed-forward: x += Wdown · (silu(Wgate·h) * Wup·h), h = rmsnorm(x).
            backend.rmsNorm(a.x, block.ffnNorm(), n, e, eps, a.normed);
            backend.matmul(block.ffnGate(), a.normed, n, a.gate);
            backend.matmul(block.ffnUp(), a.normed, n, a.up);
            backend.swiglu(a.gate, a.up, n * config.ffnDim(), a.gate);
            backend.matmul(block.ffnDown(), a.gate, n, a.projected);
            backend.add(a.x, a.projected, n * e);
        }
        for (Segment s : segments) {
            s.cache().commit(s.count());
        }
    }

    /**
     * Attention of layer {@code l} over the chunk in {@code a.normed}: projections, q/k norm, RoPE,
     * each segment's keys and values into its cache and attention over that cache, output
     * projection into {@code a.projected}. A gated layer's q projection carries each head's sigmoid
     * output gate beside its queries.
     */
    private void attention(int l, LayerWeights w, List<Segment> segments, int[] starts, int[] positions,
            Activations a) {
        int n = positions.length;
        int d = config.headDim();
        int h = config.heads();
        int kv = config.kvHeads();
        float eps = config.rmsEps();
        boolean gated = config.layerKind(l) == LayerKind.GATED_ATTENTION;
        if (gated) {
            backend.matmul(w.query(), a.normed, n, a.queryAndGate);
            backend.split(a.queryAndGate, n * h, d, d, a.q, a.outputGate);
        } else {
            backend.matmul(w.query(), a.normed, n, a.q);
        }
        backend.matmul(w.key(), a.normed, n, a.k);
        backend.matmul(w.value(), a.normed, n, a.v);
        w.queryBias().ifPresent(b -> backend.addBias(a.q, b, n, config.queryDim()));
        w.keyBias().ifPresent(b -> backend.addBias(a.k, b, n, config.kvDim()));
        w.valueBias().ifPresent(b -> backend.addBias(a.v, b, n, config.kvDim()));
        w.queryNorm().ifPresent(g -> backend.rmsNorm(a.q, g, n * h, d, eps, a.q));
        w.keyNorm().ifPresent(g -> backend.rmsNorm(a.k, g, n * kv, d, eps, a.k));
        backend.rope(a.q, n, h, d, positions, rope);
        backend.rope(a.k, n, kv, d, positions, rope);
        List<AttentionChunk> chunks = new ArrayList<>(starts.length);
        for (int i = 0; i < starts.length; i++) {
            Segment s = segments.get(i);
            int kvRows = s.offset() * config.kvDim();
            int qRows = s.offset() * config.queryDim();
            s.cache().store(l, a.k.slice(kvRows, s.count() * config.kvDim()),
                    a.v.slice(kvRows, s.count() * config.kvDim()), starts[i], s.count());
            chunks.add(new AttentionChunk(a.q.slice(qRows, s.count() * config.queryDim()), s.cache().keys(l),
                    s.cache().values(l), s.count(), starts[i], a.attended.slice(qRows, s.count() * config.queryDim())));
        }
        backend.attention(chunks, attention);
        if (gated) {
            backend.sigmoidMul(a.attended, a.outputGate, n * config.queryDim());
        }
        backend.matmul(w.attentionOutput(), a.attended, n, a.projected);
    }

    /**
     * Gated DeltaNet layer {@code l} over the chunk in {@code a.normed}: projections and gates for
     * all rows at once; the convolution and the delta rule per segment, each on its own sequence's
     * state; the gated norm and the output projection into {@code a.projected}.
     */
    private void deltaNet(int l, DeltaNetWeights w, List<Segment> segments, int n, Activations a) {
        HybridLayout layout = config.hybrid().orElseThrow();
        DeltaNetShape shape = layout.deltaNet();
        int channels = shape.channels();
        int heads = shape.valueHeads();
        int width = shape.valueWidth();
        backend.matmul(w.qkv(), a.normed, n, a.mixed);
        backend.matmul(w.gate(), a.normed, n, a.z);
        backend.matmul(w.alpha(), a.normed, n, a.decay);
        backend.matmul(w.beta(), a.normed, n, a.beta);
        backend.deltaNetGates(a.decay, a.beta, w.dtBias(), w.ssmA(), n, heads);
        for (Segment s : segments) {
            RecurrentState state = s.cache().recurrent().orElseThrow();
            int o = s.offset();
            int count = s.count();
            backend.causalConvSilu(a.mixed.slice(o * channels, count * channels), count, channels, w.conv(),
                    layout.convKernel(), state.conv(l), a.convolved.slice(o * channels, count * channels));
            backend.deltaNet(a.convolved.slice(o * channels, count * channels),
                    a.decay.slice(o * heads, count * heads), a.beta.slice(o * heads, count * heads), count, shape,
                    state.ssm(l), a.mixedOut.slice(o * width, count * width));
        }
        backend.rmsNormGated(a.mixedOut, w.ssmNorm(), a.z, n * heads, shape.valueDim(), config.rmsEps(), a.mixedOut);
        backend.matmul(w.ssmOut(), a.mixedOut, n, a.projected);
    }

    /** Rows {@code offset .. offset + count} of a packed chunk, which belong to the sequence of {@code cache}. */
    private record Segment(KvCache cache, int offset, int count) {
    }

    /** Final norm and LM head for {@code count} tokens of the chunk from {@code first}, into {@code dst[dstOffset ..]}. */
    private void logits(Activations a, int first, int count, float[] dst, int dstOffset) {
        backend.read(lmHead(a, first, count), dst, dstOffset);
    }

    /** Final norm and LM head for {@code count} tokens of the chunk from {@code first}: {@code count * vocab} floats on the backend. */
    private DeviceBuffer lmHead(Activations a, int first, int count) {
        int e = config.embeddingDim();
        int vocab = config.vocabSize();
        DeviceBuffer x = a.x.slice(first * e, count * e);
        DeviceBuffer normed = a.normed.slice(0, count * e);
        DeviceBuffer out = a.logits(count);
        backend.rmsNorm(x, weights.outputNorm(), count, e, config.rmsEps(), normed);
        backend.matmul(weights.output(), normed, count, out);
        weights.outputBias().ifPresent(b -> backend.addBias(out, b, count, vocab));
        return out;
    }

    /** The idle activations if they hold {@code tokens} rows, else new ones. */
    private Activations takeActivations(int tokens) {
        Activations a = idle.getAndSet(null);
        if (a != null && a.tokens >= tokens) {
            return a;
        }
        if (a != null) {
            a.close();
        }
        return new Activations(tokens);
    }

    /** Keeps {@code a} for the next call, or frees it when another call's activations are already kept. */
    private void returnActivations(Activations a) {
        if (!idle.compareAndSet(null, a)) {
            a.close();
        }
    }

    /** Releases the weights' and kept activations' backend memory; the backend itself belongs to the caller. */
    @Override
    public void close() {
        Activations a = idle.getAndSet(null);
        if (a != null) {
            a.close();
        }
        weights.close();
    }

    /** The activation buffers of one forward call, sized for at least its largest chunk. */
    private final class Activations implements AutoCloseable {
        final int tokens;
        final DeviceBuffer x;
        final DeviceBuffer normed;
        final DeviceBuffer q;
        final DeviceBuffer k;
        final DeviceBuffer v;
        final DeviceBuffer attended;
        final DeviceBuffer projected;
        final DeviceBuffer gate;
        final DeviceBuffer up;
        // Hybrid (qwen35) layers only; null for a model of plain attention layers.
        final DeviceBuffer queryAndGate;
        final DeviceBuffer outputGate;
        final DeviceBuffer mixed;
        final DeviceBuffer convolved;
        final DeviceBuffer z;
        final DeviceBuffer decay;
        final DeviceBuffer beta;
        final DeviceBuffer mixedOut;
        private DeviceBuffer logits;

        Activations(int tokens) {
            this.tokens = tokens;
            int e = config.embeddingDim();
            x = backend.allocate(tokens * e);
            normed = backend.allocate(tokens * e);
            q = backend.allocate(tokens * config.queryDim());
            k = backend.allocate(tokens * config.kvDim());
            v = backend.allocate(tokens * config.kvDim());
            attended = backend.allocate(tokens * config.queryDim());
            projected = backend.allocate(tokens * e);
            gate = backend.allocate(tokens * config.ffnDim());
            up = backend.allocate(tokens * config.ffnDim());
            DeltaNetShape dn = config.hybrid().map(HybridLayout::deltaNet).orElse(null);
            queryAndGate = dn == null ? null : backend.allocate(tokens * 2 * config.queryDim());
            outputGate = dn == null ? null : backend.allocate(tokens * config.queryDim());
            mixed = dn == null ? null : backend.allocate(tokens * dn.channels());
            convolved = dn == null ? null : backend.allocate(tokens * dn.channels());
            z = dn == null ? null : backend.allocate(tokens * dn.valueWidth());
            decay = dn == null ? null : backend.allocate(tokens * dn.valueHeads());
            beta = dn == null ? null : backend.allocate(tokens * dn.valueHeads());
            mixedOut = dn == null ? null : backend.allocate(tokens * dn.valueWidth());
        }

        /** A logits buffer for {@code count} tokens, allocated on first use. */
        DeviceBuffer logits(int count) {
            if (logits == null || logits.size() < count * config.vocabSize()) {
                if (logits != null) {
                    logits.close();
                }
                logits = backend.allocate(Math.multiplyExact(count, config.vocabSize()));
            }
            return logits.slice(0, count * config.vocabSize());
        }

        @Override
        public void close() {
            Stream.of(x, normed, q, k, v, attended, projected, gate, up, queryAndGate, outputGate, mixed, convolved, z,
                    decay, beta, mixedOut).filter(Objects::nonNull).forEach(DeviceBuffer::close);
            if (logits != null) {
                logits.close();
            }
        }
    }
}
