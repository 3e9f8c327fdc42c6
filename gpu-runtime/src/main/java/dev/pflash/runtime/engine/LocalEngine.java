package dev.pflash.runtime.engine;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.Backends;
import dev.pflash.runtime.cache.PrefixCache;
import dev.pflash.runtime.cache.PrefixCacheStats;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.LogitsMode;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.DemoModels;
import dev.pflash.runtime.models.FileHashes;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.models.SyntheticModels;
import dev.pflash.runtime.pflash.MemoryLedger;
import dev.pflash.runtime.pflash.SpeculativePrefill;
import dev.pflash.runtime.tokenizer.ChatTemplate;
import dev.pflash.runtime.tokenizer.FramedPrompt;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine that runs models in this JVM on a {@link Backend}: chat-template framing and
 * tokenization, target prefill with shared-prefix KV reuse (a {@link PrefixCache} across calls,
 * each distinct prefix computed once per batch, the rest of a batch packed into one pass), body
 * selection, decoding, and label scoring. Calls are serialized (one batch at a time uses all of
 * the backend), so any number of threads may share one instance.
 */
public final class LocalEngine implements Engine {
    private static final Logger LOG = LoggerFactory.getLogger(LocalEngine.class);
    /**
     * Tokens of the passes that measure each model's speed at start for {@code auto} by cost: short,
     * so that a large model on the CPU opens in seconds; the shape of each model carries the
     * prediction to long prompts, and real passes refine the measured rate as they come.
     */
    static final int CALIBRATION_TOKENS = 64;

    private final EngineConfig config;
    private final Backend backend;
    private final ModelFile targetFile;
    private final ModelFile drafterFile;
    /** The PFlash drafter, loaded when a drafter is configured and compression is not off. */
    private final SpeculativePrefill pflash;
    /** Predicted costs for {@code auto} by cost; null when compression is decided otherwise. */
    private final CompressionCost cost;
    private final Transformer target;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final EngineInfo info;
    private final PrefixCache prefixes;
    private final SharedPrefixPrefill prefill;
    private final BatchDecoder decoder;
    private final LabelScorer scorer;
    private final ReentrantLock lock = new ReentrantLock(true);

    private LocalEngine(EngineConfig config, Backend backend, ModelFile targetFile, ModelFile drafterFile) {
        this.config = config;
        this.backend = backend;
        this.targetFile = targetFile;
        this.drafterFile = drafterFile;
        this.target = Transformer.load(targetFile, backend);
        // A cache type that this model's heads or this backend cannot store fails here, at open,
        // rather than as an error row for every document.
        this.target.newCache(config.kvCacheType()).close();
        this.tokenizer = Tokenizer.fromMetadata(targetFile.metadata());
        this.template = ChatTemplate.forVocabulary(tokenizer.vocabulary());
        if (drafterFile != null && config.compression().mode() != CompressionSettings.Mode.OFF) {
            this.pflash = SpeculativePrefill.open(drafterFile, backend, tokenizer);
        } else {
            if (drafterFile != null) {
                // The drafter must be a usable model even before compression needs it: fail at start.
                ModelConfig.fromMetadata(drafterFile.metadata(), drafterFile);
            }
            this.pflash = null;
        }
        boolean demo = targetFile.metadata().getBool(DemoModels.KEY_DEMO, false)
                || targetFile.metadata().getBool(SyntheticModels.KEY_SYNTHETIC, false);
        this.cost = pflash != null && config.compression().byCost() ? measureCosts() : null;
        Integer crossover = null;
        if (cost != null) {
            crossover = cost.crossover(0, 0, target.config().contextLength() - 1);
            LOG.info("PFlash auto by cost: target {} at {} MFLOP/s, drafter at {} MFLOP/s on {}; bodies of {} tokens"
                    + " and more are compressed", config.model(), Math.round(cost.target().flopsPerMs() / 1e3),
                    Math.round(cost.drafter().flopsPerMs() / 1e3), backend.name(),
                    crossover < 0 ? "(never)" : crossover);
        }
        this.info = new EngineInfo(config.model(), hashOf(config.model()), config.drafter(),
                config.drafter() == null ? null : hashOf(config.drafter()), backend.name(),
                target.config().contextLength(), demo, crossover);
        this.prefixes = new PrefixCache(target.config(), backend, config.kvCacheType(), config.prefixCacheBytes(),
                PrefixCache.DEFAULT_BLOCK_TOKENS);
        this.prefill = new SharedPrefixPrefill(target, prefixes);
        this.decoder = new BatchDecoder(target, tokenizer);
        this.scorer = new LabelScorer(target);
    }

    /**
     * Times a short target prefill and a short drafter pass, each the faster of two (the first
     * also warms the code up), as the starting rates of the cost predictions.
     */
    private CompressionCost measureCosts() {
        int n = Math.min(CALIBRATION_TOKENS, target.config().contextLength() - 1);
        int[] tokens = new int[n];
        int vocab = Math.min(target.config().vocabSize(), pflash.forward().config().vocabSize());
        for (int i = 0; i < n; i++) {
            tokens[i] = (int) ((i * 2654435761L) % vocab);
        }
        double targetMs = Double.MAX_VALUE;
        double drafterMs = Double.MAX_VALUE;
        for (int round = 0; round < 2; round++) {
            long start = System.nanoTime();
            try (KvCache cache = target.newCache()) {
                cache.reserve(n);
                target.forward(cache, tokens, 0, LogitsMode.NONE);
            }
            targetMs = Math.min(targetMs, (System.nanoTime() - start) / 1e6);
            start = System.nanoTime();
            pflash.forward().score(tokens, config.compression(), new MemoryLedger());
            drafterMs = Math.min(drafterMs, (System.nanoTime() - start) / 1e6);
        }
        return new CompressionCost(ForwardCost.measured(target.config(), n, targetMs),
                ForwardCost.measured(pflash.forward().config(), n, drafterMs), config.compression());
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
            LOG.info("engine ready: target {} ({} layers, context {}), drafter {}, backend {}, KV cache {}",
                    config.model(), engine.target.config().layers(), engine.info.contextLength(),
                    config.drafter() == null ? "none" : config.drafter(), backend,
                    config.kvCacheType().label());
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
        EngineOutcome outcome = generateBatch(List.of(prompt), settings).get(0);
        if (!outcome.isOk()) {
            throw outcome.error();
        }
        return outcome.result();
    }

    /**
     * Prefills the prompts that share a prefix together (the prefix once, the rest packed) and
     * decodes their sequences together, one packed step per token; each prompt gets exactly the
     * tokens it would get alone.
     */
    @Override
    public List<EngineOutcome> generateBatch(List<Prompt> prompts, GenerationSettings settings) {
        return inBatches(prompts, settings.maxNewTokens(), prefilled -> decoder.decode(prefilled, settings),
                EngineOutcome::failed);
    }

    @Override
    public Classification classify(Prompt prompt, List<String> labels) {
        ClassificationOutcome outcome = classifyBatch(List.of(prompt), labels).get(0);
        if (!outcome.isOk()) {
            throw outcome.error();
        }
        return outcome.result();
    }

    /** Prefills the prompts as {@link #generateBatch} does, then scores every label on each prompt's KV. */
    @Override
    public List<ClassificationOutcome> classifyBatch(List<Prompt> prompts, List<String> labels) {
        List<int[]> labelTokens = LabelScorer.tokenize(tokenizer, labels);
        int longest = labelTokens.stream().mapToInt(t -> t.length).max().orElse(1);
        return inBatches(prompts, longest - 1, prefilled -> scorer.scoreAll(prefilled, labels, labelTokens),
                ClassificationOutcome::failed);
    }

    /** Counters and contents of the target's prefix KV cache. */
    public PrefixCacheStats prefixCacheStats() {
        return prefixes.stats();
    }

    /**
     * Runs prompts group by group ({@link PromptBatches}: a shared prefix, a bounded KV size):
     * each group is prefilled together, then {@code finish} decodes or scores its sequences. A
     * prompt that fails fails alone, as {@code failed} describes it; outcomes in input order.
     *
     * @param extraTokens tokens each sequence may grow by after its prompt
     */
    private <T> List<T> inBatches(List<Prompt> prompts, int extraTokens, Function<List<Prefilled>, List<T>> finish,
            BiFunction<String, RuntimeException, T> failed) {
        lock.lock();
        try {
            List<T> out = new ArrayList<>(Collections.nCopies(prompts.size(), null));
            for (List<Integer> group : PromptBatches.partition(prompts, extraTokens, target.config().contextLength())) {
                long start = System.nanoTime();
                List<Integer> planned = new ArrayList<>(group.size());
                List<PrefillPlan> plans = new ArrayList<>(group.size());
                for (int i : group) {
                    try {
                        plans.add(plan(prompts.get(i)));
                        planned.add(i);
                    } catch (RuntimeException e) {
                        out.set(i, failed.apply(prompts.get(i).id(), e));
                    }
                }
                if (plans.isEmpty()) {
                    continue;
                }
                List<Prefilled> prefilled;
                try {
                    prefilled = prefill.run(prompts.get(group.get(0)).prefixTokens(), plans, extraTokens, start);
                } catch (RuntimeException e) {
                    LOG.warn("Prefill of a batch of {} prompts failed: {}", plans.size(), e.toString());
                    planned.forEach(i -> out.set(i, failed.apply(prompts.get(i).id(), e)));
                    continue;
                }
                observeCosts(prefilled);
                try {
                    List<T> done = finish.apply(prefilled);
                    for (int k = 0; k < planned.size(); k++) {
                        out.set(planned.get(k), done.get(k));
                    }
                } finally {
                    prefilled.forEach(Prefilled::close);
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * What the target prefills for {@code prompt}: its prefix, the body tokens that body selection
     * (PFlash) keeps, and its suffix.
     *
     * @throws IllegalArgumentException for an empty prompt, one too long for the context window or
     *     one with a token outside the vocabulary
     */
    private PrefillPlan plan(Prompt prompt) {
        if (prompt.length() == 0) {
            throw new IllegalArgumentException("prompt " + prompt.id() + " is empty");
        }
        CompressionDecision decision = decide(prompt);
        BodySelection selection = selectBody(prompt, decision);
        decision = decision.outcome(selection.kept().length < prompt.bodyTokens().length);
        int[] prefix = prompt.prefixTokens();
        int[] suffix = prompt.suffixTokens();
        int[] kept = selection.keptTokens(prompt.bodyTokens());
        int total = prefix.length + kept.length + suffix.length;
        int context = target.config().contextLength();
        if (total >= context) {
            throw new ContextOverflowException(prompt.id(), total, context, config.model());
        }
        int[] sequence = concat(concat(prefix, kept), suffix);
        int vocab = target.config().vocabSize();
        for (int i = 0; i < sequence.length; i++) {
            if (sequence[i] < 0 || sequence[i] >= vocab) {
                throw new IllegalArgumentException("prompt " + prompt.id() + ": token id " + sequence[i]
                        + " at index " + i + " is outside the vocabulary of " + vocab + " tokens of " + config.model());
            }
        }
        int[] positions = selection.positions(prefix.length, suffix.length, config.compression().originalPositions());
        return new PrefillPlan(prompt, selection, decision, sequence, positions);
    }

    /**
     * Whether the settings ask to compress this prompt's body: never when off or without a drafter,
     * always when {@code always}, from the threshold, or when PFlash is predicted to reach the first
     * token sooner. A prompt too long for the context window is compressed to fit whatever this says.
     */
    private CompressionDecision decide(Prompt prompt) {
        int body = prompt.bodyTokens().length;
        CompressionSettings settings = config.compression();
        if (pflash == null || settings.mode() == CompressionSettings.Mode.OFF) {
            return CompressionDecision.off();
        }
        if (cost != null) {
            return cost.decide(prompt.prefixTokens().length, body, prompt.suffixTokens().length);
        }
        return CompressionDecision.unpredicted(settings.mode() == CompressionSettings.Mode.ALWAYS
                ? CompressionDecision.Reason.ALWAYS : CompressionDecision.Reason.THRESHOLD, settings.compresses(body));
    }

    /**
     * Which body tokens the target prefills: all of them, or what PFlash keeps when the decision is
     * to compress this body, or when the whole prompt would not fit the context window (then the
     * keep ratio starts at 1 and is lowered until the prompt fits, with room for one generated token).
     */
    private BodySelection selectBody(Prompt prompt, CompressionDecision decision) {
        int body = prompt.bodyTokens().length;
        int room = target.config().contextLength() - 1 - prompt.prefixTokens().length - prompt.suffixTokens().length;
        CompressionSettings settings = config.compression();
        boolean asked = decision.compressed();
        if (pflash == null || body == 0 || room <= 0 || (!asked && body <= room)) {
            return BodySelection.all(body);
        }
        return pflash.select(prompt.prefixTokens(), prompt.bodyTokens(), prompt.suffixTokens(), settings,
                asked ? settings.keepRatio() : 1.0, room).selection();
    }

    /** Folds the timed drafter passes and target prefills of a batch into the cost predictions. */
    private void observeCosts(List<Prefilled> batch) {
        if (cost == null) {
            return;
        }
        for (Prefilled p : batch) {
            BodySelection s = p.plan().selection();
            if (s.draftMs() > 0) {
                cost.drafter().observe(0, p.prompt().length(), s.draftMs() + s.selectMs());
            }
            cost.target().observe(p.reused(), p.plan().sequence().length - p.reused(), p.prefillMs());
        }
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
            if (prefixes.enabled()) {
                PrefixCacheStats stats = prefixes.stats();
                LOG.info("Prefix cache: {} lookups, {} of {} prefix tokens reused ({}%), {} blocks stored, {} evicted",
                        stats.lookups(), stats.hitTokens(), stats.lookupTokens(),
                        Math.round(stats.hitRate() * 1000) / 10.0, stats.storedBlocks(), stats.evictedBlocks());
            }
            prefixes.close();
            if (pflash != null) {
                pflash.close();
            }
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
