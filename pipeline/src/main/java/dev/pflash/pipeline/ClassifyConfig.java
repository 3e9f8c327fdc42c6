package dev.pflash.pipeline;

import dev.pflash.pipeline.classify.LabelSet;
import dev.pflash.pipeline.extract.ExtractionLimits;
import dev.pflash.pipeline.generate.EngineOpener;
import dev.pflash.pipeline.output.OutputLayout;
import dev.pflash.pipeline.prompt.PromptTemplate;
import dev.pflash.pipeline.resume.DoneDocuments;
import dev.pflash.runtime.engine.EngineConfig;
import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * Everything the classification pipeline needs, in the form its transforms carry to workers.
 *
 * @param runId       written on every row and in the manifest
 * @param input       file patterns; {@code **} matches across directories; a file matched by
 *                    several patterns is read once
 * @param limits      Tika limits per file
 * @param labels      the labels every document is scored against
 * @param template    prompt template (instructions listing the labels | document | question)
 * @param engine      models and backend of the shared engine
 * @param opener      how workers open that engine
 * @param batchTokens prompt tokens per engine batch
 * @param output      where and how the tables are written
 */
public record ClassifyConfig(String runId, List<String> input, ExtractionLimits limits, LabelSet labels,
        PromptTemplate template, EngineConfig engine, EngineOpener opener, long batchTokens, OutputLayout output,
        DoneDocuments done)
        implements Serializable {
    public ClassifyConfig {
        Objects.requireNonNull(runId, "runId");
        input = List.copyOf(input);
        if (input.isEmpty()) {
            throw new IllegalArgumentException("--input needs at least one file pattern");
        }
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(opener, "opener");
        Objects.requireNonNull(output, "output");
        if (batchTokens < 1) {
            throw new IllegalArgumentException("--batch-tokens must be at least 1, got " + batchTokens);
        }
    }

    /** A run that skips nothing. */
    public ClassifyConfig(String runId, List<String> input, ExtractionLimits limits, LabelSet labels,
            PromptTemplate template, EngineConfig engine, EngineOpener opener, long batchTokens, OutputLayout output) {
        this(runId, input, limits, labels, template, engine, opener, batchTokens, output, DoneDocuments.none());
    }
}
