package dev.pflash.pipeline.generate;

import dev.pflash.pipeline.generate.WindowPlan.TokenRange;
import dev.pflash.pipeline.prompt.DocumentPrompt;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineOutcome;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.Prompt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Summarizes a document whose prompt does not fit the context window, without cutting it: the
 * body is split into windows that are summarized separately, then the window summaries, joined,
 * go through the same template and are summarized together. When the joined summaries do not fit
 * either, they are split again, for at most {@value #MAX_ROUNDS} rounds.
 */
final class WindowedSummarizer {
    static final int MAX_ROUNDS = 8;

    private final Engine engine;
    private final PromptTemplate template;
    private final GenerationSettings settings;
    private final int contextTokens;

    WindowedSummarizer(Engine engine, PromptTemplate template, GenerationSettings settings, int contextTokens) {
        this.engine = engine;
        this.template = template;
        this.settings = settings;
        this.contextTokens = contextTokens;
    }

    GenerationRun summarize(DocumentPrompt document) {
        String id = document.meta().docId();
        UsageAccumulator usage = new UsageAccumulator();
        List<TokenRange> windows = plan(document.bodyLength(), document.prefixLength() + document.suffixLength());
        List<String> parts = summarizeWindows(id, document.toPrompt(), windows, usage, true);
        int previousBody = document.bodyLength();
        for (int round = 1; ; round++) {
            Prompt combined = engine.tokenize(id + "#combine" + round, template.fill(join(parts)));
            if (WindowPlan.fits(combined.length(), settings.maxNewTokens(), contextTokens)) {
                EngineResult result = engine.generate(combined, settings);
                usage.addCombineCall(result);
                return new GenerationRun(result.text(), result.generatedTokens(), result.finishReason().name(),
                        result.tokens().generated(), FitStrategy.SPLIT, windows.size(), usage.build());
            }
            int body = combined.bodyTokens().length;
            if (body >= previousBody || round == MAX_ROUNDS) {
                throw new IllegalStateException(id + ": the joined summaries of its windows (" + body
                        + " tokens) still do not fit the " + contextTokens + "-token context after " + round
                        + " rounds; lower --max-new-tokens so that window summaries are shorter");
            }
            previousBody = body;
            parts = summarizeWindows(id, combined, plan(body, combined.length() - body), usage, false);
        }
    }

    private List<TokenRange> plan(int bodyTokens, int frameTokens) {
        return WindowPlan.split(bodyTokens, frameTokens, settings.maxNewTokens(), contextTokens);
    }

    private List<String> summarizeWindows(String id, Prompt whole, List<TokenRange> windows, UsageAccumulator usage,
            boolean documentBody) {
        int[] body = whole.bodyTokens();
        List<Prompt> prompts = new ArrayList<>(windows.size());
        for (int i = 0; i < windows.size(); i++) {
            TokenRange w = windows.get(i);
            prompts.add(new Prompt(whole.id() + "#w" + (i + 1), whole.prefixTokens(),
                    Arrays.copyOfRange(body, w.start(), w.end()), whole.suffixTokens()));
        }
        List<EngineOutcome> outcomes = engine.generateBatch(prompts, settings);
        List<EngineResult> results = new ArrayList<>(windows.size());
        for (int i = 0; i < windows.size(); i++) {
            EngineOutcome outcome = outcomes.get(i);
            if (!outcome.isOk()) {
                throw new WindowFailedException(id + ": window " + (i + 1) + " of " + windows.size() + " failed: "
                        + outcome.error().getMessage(), outcome.error());
            }
            results.add(outcome.result());
        }
        usage.addBatch(results, documentBody ? windows.stream().map(TokenRange::start).toList() : null);
        return results.stream().map(r -> r.text().strip()).toList();
    }

    /** The body of a combine prompt: the window summaries in document order, each labelled. */
    static String join(List<String> parts) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) {
                text.append("\n\n");
            }
            text.append("Part ").append(i + 1).append(" of ").append(parts.size()).append(":\n").append(parts.get(i));
        }
        return text.toString();
    }

    /** One window of a split document failed, so the document has no summary. */
    static final class WindowFailedException extends RuntimeException {
        WindowFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
