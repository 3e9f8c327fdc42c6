package dev.pflash.pipeline;

import dev.pflash.runtime.engine.Classification;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineInfo;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.LabelScore;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import dev.pflash.runtime.engine.StageTimings;
import dev.pflash.runtime.engine.TokenCounts;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A predictable engine for pipeline tests: one token per character (code point + 10), a start
 * token 1 before the prefix and an end token 2 after the suffix; the "summary" is
 * {@code sum(<body tokens>)}, cut to maxNewTokens characters; every call takes prefix lookup 1 ms,
 * target prefill 2 ms, TTFT 3 ms and decode 4 ms. A body holding {@link #POISON} fails, in
 * generation and classification alike.
 */
public final class FakeEngine implements Engine {
    public static final char POISON = '\u2620';
    public static final double PREFIX_LOOKUP_MS = 1;
    public static final double PREFILL_MS = 2;
    public static final double TTFT_MS = 3;
    public static final double DECODE_MS = 4;

    private static final Map<String, FakeEngine> OPENED = new ConcurrentHashMap<>();

    private final int contextLength;
    private final List<String> generated = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean closed;

    public FakeEngine(int contextLength) {
        this.contextLength = contextLength;
    }

    /**
     * An {@code EngineOpener}: the config's model names the context length ({@code fake:<tokens>:<name>});
     * the engine is remembered under the model name for {@link #lastOpened}.
     */
    public static FakeEngine open(EngineConfig config) {
        String[] parts = config.model().split(":");
        FakeEngine engine = new FakeEngine(Integer.parseInt(parts[1]));
        OPENED.put(config.model(), engine);
        return engine;
    }

    public static FakeEngine lastOpened(String model) {
        return OPENED.get(model);
    }

    @Override
    public EngineInfo info() {
        return new EngineInfo("fake-target", "aa11", "fake-drafter", "bb22", "cpu", contextLength, true);
    }

    @Override
    public Prompt tokenize(String id, PromptText text) {
        int[] prefix = concat(new int[] {1}, encode(text.prefix()));
        int[] suffix = concat(encode(text.suffix()), new int[] {2});
        return new Prompt(id, prefix, encode(text.body()), suffix);
    }

    @Override
    public int[] encode(String text) {
        return text.codePoints().map(c -> c + 10).toArray();
    }

    @Override
    public String detokenize(int[] tokens) {
        StringBuilder text = new StringBuilder();
        for (int token : tokens) {
            text.appendCodePoint(token - 10);
        }
        return text.toString();
    }

    @Override
    public EngineResult generate(Prompt prompt, GenerationSettings settings) {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
        checkBody(prompt);
        int[] body = prompt.bodyTokens();
        String full = "sum(" + body.length + ")";
        String text = full.substring(0, Math.min(full.length(), settings.maxNewTokens()));
        generated.add(prompt.id());
        TokenCounts counts = new TokenCounts(prompt.length(), prompt.prefixTokens().length, body.length,
                prompt.suffixTokens().length, body.length, 0, text.length());
        StageTimings timings = new StageTimings(PREFIX_LOOKUP_MS, 0, 0, PREFILL_MS, TTFT_MS, DECODE_MS);
        return new EngineResult(prompt.id(), text, encode(text), text.length() < full.length()
                ? EngineResult.FinishReason.LENGTH : EngineResult.FinishReason.STOP, counts, timings, List.of());
    }

    /**
     * Label {@code i} of {@code n} gets log-likelihood {@code -(i + 1)}: the first label wins; the
     * label tokens are the label's characters. Scoring takes {@link #DECODE_MS}.
     */
    @Override
    public Classification classify(Prompt prompt, List<String> labels) {
        checkBody(prompt);
        double[] logLikelihoods = new double[labels.size()];
        double norm = 0;
        for (int i = 0; i < labels.size(); i++) {
            logLikelihoods[i] = -(i + 1);
            norm += Math.exp(logLikelihoods[i]);
        }
        List<LabelScore> scores = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            scores.add(new LabelScore(labels.get(i), encode(labels.get(i)), logLikelihoods[i],
                    Math.exp(logLikelihoods[i]) / norm));
        }
        int body = prompt.bodyTokens().length;
        TokenCounts counts = new TokenCounts(prompt.length(), prompt.prefixTokens().length, body,
                prompt.suffixTokens().length, body, 0, 0);
        StageTimings timings = new StageTimings(PREFIX_LOOKUP_MS, 0, 0, PREFILL_MS, TTFT_MS, 0);
        return new Classification(prompt.id(), scores, counts, timings, DECODE_MS, List.of());
    }

    private static void checkBody(Prompt prompt) {
        for (int token : prompt.bodyTokens()) {
            if (token == POISON + 10) {
                throw new IllegalArgumentException(prompt.id() + ": poisoned body");
            }
        }
    }

    /** Ids of the prompts generated so far, in call order. */
    public List<String> generatedIds() {
        synchronized (generated) {
            return List.copyOf(generated);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] all = new int[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
