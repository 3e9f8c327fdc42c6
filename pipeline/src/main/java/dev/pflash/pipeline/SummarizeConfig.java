package dev.pflash.pipeline;

import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.DecodeSettings;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.pipeline.resume.DoneDocuments;
import dev.pflash.runtime.engine.EngineConfig;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * Everything the summarization pipeline needs, in the form its transforms carry to workers.
 *
 * @param runId         written on every row and in the manifest
 * @param input         file patterns; {@code **} matches across directories; a file matched by
 *                      several patterns is read once
 * @param limits        Tika limits per file
 * @param template      prompt template (prefix | document | suffix)
 * @param engine        models and backend of the shared engine
 * @param opener        how workers open that engine
 * @param decode        decoding settings
 * @param batchTokens   prompt tokens per engine batch
 * @param contextTokens cap on the context window prompts must fit; 0 for the target's own
 * @param output        where and how the tables are written
 * @param done          documents the output already holds for these settings; they are skipped
 */
public record SummarizeConfig(String runId, List<String> input, ExtractionLimits limits, PromptTemplate template,
        EngineConfig engine, EngineOpener opener, DecodeSettings decode, long batchTokens, int contextTokens,
        OutputLayout output, DoneDocuments done) implements Serializable {
    public SummarizeConfig {
        Objects.requireNonNull(runId, "runId");
        input = List.copyOf(input);
        if (input.isEmpty()) {
            throw new IllegalArgumentException("--input needs at least one file pattern");
        }
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(opener, "opener");
        Objects.requireNonNull(decode, "decode");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(done, "done");
        if (batchTokens < 1) {
            throw new IllegalArgumentException("--batch-tokens must be at least 1, got " + batchTokens);
        }
        if (contextTokens < 0) {
            throw new IllegalArgumentException("--context-tokens must be 0 (the model's window) or more, got "
                    + contextTokens);
        }
    }

    /** A run that skips nothing. */
    public SummarizeConfig(String runId, List<String> input, ExtractionLimits limits, PromptTemplate template,
            EngineConfig engine, EngineOpener opener, DecodeSettings decode, long batchTokens, int contextTokens,
            OutputLayout output) {
        this(runId, input, limits, template, engine, opener, decode, batchTokens, contextTokens, output,
                DoneDocuments.none());
    }
}
