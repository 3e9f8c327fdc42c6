package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/** Options of {@code summarize}, given as {@code --name=value}; {@code summarize --help} lists them. */
public interface SummarizeOptions extends DocumentJobOptions, SamplingOptions {
    @Description("Cap on the context window a prompt must fit, with room for --max-new-tokens; 0 uses the target's"
            + " window. Longer documents are split into windows, summarized separately, then together")
    @Default.Integer(0)
    int getContextTokens();

    void setContextTokens(int value);
}
