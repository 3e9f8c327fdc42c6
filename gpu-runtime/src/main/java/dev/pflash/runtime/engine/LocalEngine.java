package dev.pflash.runtime.engine;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.Backends;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.DemoModels;
import dev.pflash.runtime.models.FileHashes;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.models.SyntheticModels;
import dev.pflash.runtime.sampling.Sampler;
import dev.pflash.runtime.tokenizer.ChatTemplate;
import dev.pflash.runtime.tokenizer.FramedPrompt;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine that runs models in this JVM on a {@link Backend}: chat-template framing and
 * tokenization, target prefill and decoding. Calls are serialized (one prompt at a time uses all
 * of the backend), so any number of threads may share one instance.
 */
public final class LocalEngine implements Engine {
    private static final Logger LOG = LoggerFactory.getLogger(LocalEngine.class);

    private final EngineConfig config;
    private final Backend backend;
    private final ModelFile targetFile;
    private final ModelFile drafterFile;
    private final Transformer target;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final EngineInfo info;
    private final ReentrantLock lock = new ReentrantLock(true);

    private LocalEngine(EngineConfig config, Backend backend, ModelFile targetFile, ModelFile drafterFile) {
        this.config = config;
        this.backend = backend;
        this.targetFile = targetFile;
        this.drafterFile = drafterFile;
        this.target = Transformer.load(targetFile, backend);
        this.tokenizer = Tokenizer.fromMetadata(targetFile.metadata());
        this.template = ChatTemplate.forVocabulary(tokenizer.vocabulary());
        if (drafterFile != null) {
            // The drafter must be a usable model even before compression needs it: fail at start.
            ModelConfig.fromMetadata(drafterFile.metadata(), drafterFile);
        }
        boolean demo = targetFile.metadata().getBool(DemoModels.KEY_DEMO, false)
                || targetFile.metadata().getBool(SyntheticModels.KEY_SYNTHETIC, false);
        this.info = new EngineInfo(config.model(), hashOf(config.model()), config.drafter(),
                config.drafter() == null ? null : hashOf(config.drafter()), backend.name(),
                target.config().contextLength(), demo);
    }

    /** Opens the models of {@code config} on the backend it names. */
    public static LocalEngine open(EngineConfig config) {
        Backend backend = Backends.create(config.backend(), config.threads());
        ModelFile target = null;
        ModelFile drafter = null;
        try {
            target = ModelSources.open(config.model());
            drafter = config.drafter() == null ? null : ModelSources.open(config.drafter());
            LocalEngine engine = new LocalEngine(config, backend, target, drafter);
            LOG.info("engine ready: target {} ({} layers, context {}), drafter {}, backend {}", config.model(),
                    engine.target.config().layers(), engine.info.contextLength(),
                    config.drafter() == null ? "none" : config.drafter(), backend);
            return engine;
        } catch (RuntimeException e) {
            closeQuietly(drafter);
            closeQuietly(target);
            backend.close();
            throw e;
        }
    }

    private static String hashOf(String modelSpec) {
        return SyntheticModels.isSynthetic(modelSpec) ? "" : FileHashes.sha256(Path.of(modelSpec));
    }

    @Override
    public EngineInfo info() {
        return info;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Transformer target() {
        return target;
    }

    @Override
    public Prompt tokenize(String id, PromptText text) {
        FramedPrompt framed = template.frame(config.systemPrompt(), text.prefix(), text.body(), text.suffix(), false);
        // Template parts carry real control tokens; the user's and the document's text must not,
        // or a document containing "<|im_end|>" could end its own turn.
        int[] prefix = concat(tokenizer.encode(framed.templateHead(), true), tokenizer.encode(framed.userPrefix(), false));
        int[] body = tokenizer.encode(framed.bodyText(), false);
        int[] suffix = concat(tokenizer.encode(framed.userSuffix(), false), tokenizer.encode(framed.templateTail(), true));
        return new Prompt(id, prefix, body, suffix);
    }

    @Override
    public int[] encode(String text) {
        return tokenizer.encode(text, true);
    }

    @Override
    public String detokenize(int[] tokens) {
        return tokenizer.decode(tokens);
    }

    @Override
    public EngineResult generate(Prompt prompt, GenerationSettings settings) {
        if (prompt.length() == 0) {
            throw new IllegalArgumentException("prompt " + prompt.id() + " is empty");
        }
        lock.lock();
        try (Prefilled p = prefill(prompt)) {
            return decode(prompt, p, settings);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The prefill stage up to the target's last-token logits: prefix lookup, body selection
     * (PFlash), then target prefill of what the cache does not hold yet.
     */
    private Prefilled prefill(Prompt prompt) {
        long start = System.nanoTime();
        KvCache cache = lookupPrefix(prompt);
        long looked = System.nanoTime();
        try {
            BodySelection selection = selectBody(prompt);
            int[] prefix = prompt.prefixTokens();
            int[] suffix = prompt.suffixTokens();
            int[] kept = selection.keptTokens(prompt.bodyTokens());
            int total = prefix.length + kept.length + suffix.length;
            int context = target.config().contextLength();
            if (total >= context) {
                throw new ContextOverflowException(prompt.id(), total, context, config.model());
            }
            int[] sequence = concat(concat(prefix, kept), suffix);
            int reused = cache.length();
            int[] rest = Arrays.copyOfRange(sequence, reused, sequence.length);
            int[] positions = selection.positions(prefix.length, suffix.length, config.compression().originalPositions());
            long selected = System.nanoTime();
            float[] logits = target.forward(cache, rest, Arrays.copyOfRange(positions, reused, positions.length),
                    LogitsMode.LAST);
            long prefilled = System.nanoTime();
            return new Prefilled(cache, logits, positions[positions.length - 1] + 1, reused, kept.length, selection,
                    start, millis(start, looked),
                    selection.draftMs(), selection.selectMs(), millis(selected, prefilled));
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
    }

    /** A cache holding the longest already-computed prefix of {@code prompt} (none yet: no prefix cache). */
    private KvCache lookupPrefix(Prompt prompt) {
        return target.newCache();
    }

    /** Which body tokens the target prefills: all of them until PFlash compresses. */
    private BodySelection selectBody(Prompt prompt) {
        return BodySelection.all(prompt.bodyTokens().length);
    }

    private EngineResult decode(Prompt prompt, Prefilled p, GenerationSettings settings) {
        int context = target.config().contextLength();
        Sampler sampler = settings.temperature() == 0f ? Sampler.greedy()
                : new Sampler(settings.temperature(), settings.topK(), settings.topP(), seedFor(prompt.id(), settings.seed()));
        int[] generated = new int[settings.maxNewTokens()];
        int n = 0;
        EngineResult.FinishReason reason = EngineResult.FinishReason.LENGTH;
        long firstToken = System.nanoTime();
        float[] logits = p.logits();
        KvCache cache = p.cache();
        // One growth for the whole answer instead of copying the cache every few hundred tokens.
        cache.reserve(Math.min(context, cache.length() + settings.maxNewTokens() + 1));
        if (settings.maxNewTokens() > 0) {
            int next = sampler.sample(logits);
            firstToken = System.nanoTime();
            while (true) {
                if (tokenizer.isStopToken(next)) {
                    reason = EngineResult.FinishReason.STOP;
                    break;
                }
                generated[n++] = next;
                if (n == settings.maxNewTokens()) {
                    break;
                }
                if (cache.length() + 1 >= context) {
                    reason = EngineResult.FinishReason.CONTEXT;
                    break;
                }
                int position = p.nextPosition() + n - 1;
                logits = target.forward(cache, new int[] {next}, new int[] {position}, LogitsMode.LAST);
                next = sampler.sample(logits);
            }
        }
        long end = System.nanoTime();
        int[] out = Arrays.copyOf(generated, n);
        TokenCounts counts = new TokenCounts(prompt.length(), prompt.prefixTokens().length, prompt.bodyTokens().length,
                prompt.suffixTokens().length, p.keptBody(), p.reused(), n);
        StageTimings timings = new StageTimings(p.lookupMs(), p.draftMs(), p.selectMs(), p.prefillMs(),
                millis(p.startNanos(), firstToken), millis(firstToken, end));
        return new EngineResult(prompt.id(), tokenizer.decode(out), out, reason, counts, timings,
                p.selection().spans());
    }

    /**
     * The state between prefill and decode: the sequence's cache and last logits, the RoPE
     * position of the first generated token, and what prefill cost.
     */
    private record Prefilled(KvCache cache, float[] logits, int nextPosition, int reused, int keptBody,
            BodySelection selection, long startNanos, double lookupMs, double draftMs, double selectMs,
            double prefillMs) implements AutoCloseable {
        @Override
        public void close() {
            cache.close();
        }
    }

    /** A per-prompt seed, so a prompt samples the same tokens whatever else is in its batch. */
    static long seedFor(String promptId, long seed) {
        long h = seed * 0x9E3779B97F4A7C15L + promptId.hashCode();
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        return h ^ (h >>> 33);
    }

    private static double millis(long fromNanos, long toNanos) {
        return (toNanos - fromNanos) / 1e6;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            target.close();
            closeQuietly(drafterFile);
            targetFile.close();
            backend.close();
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(ModelFile f) {
        if (f != null) {
            f.close();
        }
    }
}
