package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/** Options of {@code pflash.jar generate}. */
public interface GenerateOptions extends EngineOptions, SamplingOptions {

    @Description("Prompt text")
    @Default.String("Write one sentence about tide pools.")
    String getPrompt();

    void setPrompt(String value);

    @Description("When > 0, ignore --prompt and use this many tokens of generated filler text (for benchmarks)")
    @Default.Integer(0)
    int getPromptTokens();

    void setPromptTokens(int value);

    @Description("Apply the model's chat template (system prompt from --system-prompt, user turn, generation prompt, thinking off)")
    @Default.Boolean(false)
    boolean getChat();

    void setChat(boolean value);

}
