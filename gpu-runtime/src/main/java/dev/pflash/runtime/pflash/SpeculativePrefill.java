package dev.pflash.runtime.pflash;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.engine.BodySelection;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Weights;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PFlash speculative prefill (PFLASH.md), the whole step from a prompt to the body tokens the
 * target prefills: the drafter scores every prompt token by the attention the prompt's tail pays
 * to it ({@link DrafterForward}); the body's scores are smoothed and averaged per chunk; the best
 * chunks, the forced ones and the lexical anchors are kept, in order. Only the body is ever
 * compressed: prefix and suffix go to the target whole. Not thread-safe: the engine serializes
 * calls.
 */
public final class SpeculativePrefill implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpeculativePrefill.class);

    private final Weights weights;
    private final Backend backend;
    private final PflashOps ops;
    private final DrafterForward forward;
    private final VocabularyBridge bridge;

    /**
     * A drafter with its weights already on {@code backend}; it takes ownership of the weights.
     *
     * @param bridge how target ids become drafter ids, or null when both share a vocabulary
     */
    SpeculativePrefill(ModelConfig config, Weights weights, Backend backend, VocabularyBridge bridge) {
        this.weights = weights;
        this.backend = backend;
        this.ops = PflashOps.forBackend(backend);
        this.forward = new DrafterForward(config, weights, backend, ops);
        this.bridge = bridge;
    }

    /**
     * Loads the drafter of {@code drafterFile} onto {@code backend}, for a target whose tokenizer is
     * {@code target}: ids pass straight through when the vocabularies are equal, else through text.
     */
    public static SpeculativePrefill open(ModelFile drafterFile, Backend backend, Tokenizer target) {
        ModelConfig config = ModelConfig.fromMetadata(drafterFile.metadata(), drafterFile);
        if (config.hybrid().isPresent()) {
            // The drafter scores with every layer's attention; DeltaNet layers have none.
            throw new GgufException(drafterFile.name(), "a " + config.architecture().key() + " hybrid model cannot be"
                    + " the PFlash drafter; use a small dense Qwen3 model (e.g. Qwen3-0.6B)");
        }
        Tokenizer drafterTokenizer = Tokenizer.fromMetadata(drafterFile.metadata());
        VocabularyBridge bridge = VocabularyBridge.sameVocabulary(target, drafterTokenizer) ? null
                : new VocabularyBridge(target, drafterTokenizer);
        Weights weights = Weights.load(drafterFile, config, backend);
        LOG.info("PFlash drafter {}: {} layers, E={}, H={}/{}, D={}; {}", config.name(), config.layers(),
                config.embeddingDim(), config.heads(), config.kvHeads(), config.headDim(),
                bridge == null ? "same vocabulary as the target: token ids shared"
                        : "different vocabulary: prompts go through text");
        return new SpeculativePrefill(config, weights, backend, bridge);
    }

    /** A drafter that shares the target's token ids, its weights already on {@code backend} (taken over). */
    public static SpeculativePrefill sharingIds(ModelConfig config, Weights weights, Backend backend) {
        return new SpeculativePrefill(config, weights, backend, null);
    }

    /** Whether prompts reach the drafter through text (different vocabularies) rather than as ids. */
    public boolean throughText() {
        return bridge != null;
    }

    public DrafterForward forward() {
        return forward;
    }

    /**
     * Chooses the body tokens of a prompt (target ids) that the target prefills. When the forced
     * chunks and those the keep ratio allows would cover the whole body anyway, and it fits, the
     * whole body is kept without a drafter pass.
     *
     * @param keepRatio    fraction of body chunks chosen by score
     * @param maxKeptBody  the most body tokens the target has room for; when the selection is longer,
     *                     fewer chunks are chosen by score, and if that is not enough the forced chunks
     *                     go too; it is never cut inside a chunk (so it may still not fit when even
     *                     one chunk is too many)
     */
    public CompressionResult select(int[] prefix, int[] body, int[] suffix, CompressionSettings settings,
            double keepRatio, int maxKeptBody) {
        DraftPrompt prompt = bridge == null ? DraftPrompt.sharedIds(prefix, body, suffix)
                : bridge.toDrafter(prefix, body, suffix);
        return select(prompt, settings, keepRatio, maxKeptBody);
    }

    private CompressionResult select(DraftPrompt prompt, CompressionSettings settings, double keepRatio,
            int maxKeptBody) {
        if (!(keepRatio > 0 && keepRatio <= 1)) {
            throw new IllegalArgumentException("keep ratio must be in (0, 1], got " + keepRatio);
        }
        int bodyLength = prompt.bodyLength();
        int chunkTokens = settings.chunkTokens();
        int chunks = ChunkSelector.chunkCount(bodyLength, chunkTokens);
        int keep = ChunkSelector.keepCount(bodyLength, chunkTokens, keepRatio);
        if ((long) settings.headChunks() + settings.tailChunks() + keep >= chunks
                && prompt.targetBodyLength() <= maxKeptBody) {
            // The forced chunks and those chosen by score would cover the whole body: no scores needed.
            return new CompressionResult(BodySelection.all(prompt.targetBodyLength()),
                    DraftStats.skipped(prompt.allTokens().length), chunks, chunks, 1.0, true);
        }
        DraftScores draft = forward.score(prompt.allTokens(), settings, new MemoryLedger());
        long start = System.nanoTime();
        float[] smoothed = smooth(Arrays.copyOfRange(draft.scores(), prompt.prefixLength(),
                prompt.prefixLength() + bodyLength), settings.poolKernel());
        float[] chunkScores = chunkMeans(smoothed, chunkTokens);
        BitSet anchors = settings.lexicalAnchors()
                ? LexicalAnchors.chunks(prompt.allTokens(), prompt.prefixLength(), bodyLength, chunkTokens)
                : new BitSet();
        ChunkSelector selector = new ChunkSelector(chunkTokens, settings.headChunks(), settings.tailChunks());
        Choice choice = choose(prompt, selector, chunkScores, anchors, keep);
        if (choice.kept.length > maxKeptBody) {
            choice = shrinkToFit(prompt, selector, chunkScores, anchors, keep, maxKeptBody);
        }
        int[] kept = choice.kept;
        double selectMs = draft.stats().scoringMs() + (System.nanoTime() - start) / 1e6;
        BodySelection selection = new BodySelection(prompt.targetBodyLength(), kept,
                BodySelection.spansOf(kept, prompt.toTargetScores(smoothed)), draft.stats().forwardMs(), selectMs);
        DraftStats stats = draft.stats();
        if (LOG.isDebugEnabled()) {
            LOG.debug(String.format(Locale.ROOT, "PFlash: body %d -> %d tokens (%d of %d chunks), draft %.1f ms"
                    + " (attention %.1f ms, block density %.3f, peak keys and values %d bytes), select %.1f ms",
                    prompt.targetBodyLength(), kept.length, choice.chunks.length, chunks, stats.forwardMs(),
                    stats.attentionMs(), stats.blockDensity(), stats.peakKeyValueBytes(), selectMs));
        }
        return new CompressionResult(selection, stats, choice.chunks.length, chunks, (double) choice.keep / chunks,
                choice.forced);
    }

    /**
     * The largest selection that fits {@code maxKeptBody} target tokens: fewer chunks chosen by score,
     * and if even one is too many beside the forced chunks, no forced chunks; at worst the single
     * best chunk (which the caller finds still too long).
     */
    private Choice shrinkToFit(DraftPrompt prompt, ChunkSelector selector, float[] chunkScores, BitSet anchors,
            int keep, int maxKeptBody) {
        Choice fitting = largestFitting(prompt, selector, chunkScores, anchors, keep, maxKeptBody);
        if (fitting == null) {
            ChunkSelector plain = new ChunkSelector(selector.chunkTokens(), 0, 0);
            fitting = largestFitting(prompt, plain, chunkScores, new BitSet(), keep, maxKeptBody);
            if (fitting == null) {
                fitting = choose(prompt, plain, chunkScores, new BitSet(), 1);
            }
        }
        LOG.info("PFlash: a body of {} tokens keeps {} chunks by score instead of {}{} to fit the {} tokens left in the"
                + " target's context", prompt.targetBodyLength(), fitting.keep, keep,
                fitting.forced ? "" : " and no forced chunks", maxKeptBody);
        return fitting;
    }

    /** The largest selection by score ({@code <= keep} chunks) whose target body tokens fit, or null when none does. */
    private Choice largestFitting(DraftPrompt prompt, ChunkSelector selector, float[] chunkScores, BitSet anchors,
            int keep, int maxKeptBody) {
        Choice smallest = choose(prompt, selector, chunkScores, anchors, 1);
        if (smallest.kept.length > maxKeptBody) {
            return null;
        }
        int lo = 1;
        int hi = keep;
        Choice best = smallest;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            Choice c = choose(prompt, selector, chunkScores, anchors, mid);
            if (c.kept.length <= maxKeptBody) {
                lo = mid;
                best = c;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    private static Choice choose(DraftPrompt prompt, ChunkSelector selector, float[] chunkScores, BitSet anchors,
            int keep) {
        int[] chunks = selector.select(chunkScores, keep, anchors);
        boolean forced = !anchors.isEmpty() || !selector.forcedChunks(chunkScores.length).isEmpty();
        return new Choice(keep, chunks, prompt.toTargetBody(selector.tokens(chunks, prompt.bodyLength())), forced);
    }

    /**
     * A selection: how many chunks were chosen by score, all kept chunks, the target body tokens they
     * cover, and whether forced chunks are among them.
     */
    private record Choice(int keep, int[] chunks, int[] kept, boolean forced) {
    }

    private float[] smooth(float[] scores, int kernel) {
        float[] out = new float[scores.length];
        if (scores.length == 0) {
            return out;
        }
        try (DeviceBuffer in = backend.upload(scores); DeviceBuffer pooled = backend.allocate(scores.length)) {
            ops.averagePool(in, scores.length, kernel, pooled);
            backend.read(pooled, out, 0);
        }
        return out;
    }

    private float[] chunkMeans(float[] scores, int chunkTokens) {
        float[] out = new float[ChunkSelector.chunkCount(scores.length, chunkTokens)];
        if (out.length == 0) {
            return out;
        }
        try (DeviceBuffer in = backend.upload(scores); DeviceBuffer means = backend.allocate(out.length)) {
            ops.chunkMeans(in, scores.length, chunkTokens, means);
            backend.read(means, out, 0);
        }
        return out;
    }

    /** Releases the drafter's weights and the PFlash ops; the backend belongs to the caller. */
    @Override
    public void close() {
        ops.close();
        weights.close();
    }
}
