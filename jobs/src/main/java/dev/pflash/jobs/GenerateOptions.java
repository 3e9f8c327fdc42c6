package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Options of {@code pflash.jar generate}. */
public interface GenerateOptions extends PipelineOptions {
    @Description("Target model: a GGUF file or synthetic:<preset>[?type=T] (presets: qwen3-0.6b, qwen3-1.7b, "
            + "qwen3-4b, qwen3-8b, cpu-target, cpu-drafter; types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, Q4_K_M)")
    @Default.String("sample-data/models/demo-target.gguf")
    String getModel();

    void setModel(String value);

    @Description("Prompt text")
    @Default.String("Write one sentence about tide pools.")
    String getPrompt();

    void setPrompt(String value);

    @Description("When > 0, ignore --prompt and use this many tokens of generated filler text (for benchmarks)")
    @Default.Integer(0)
    int getPromptTokens();

    void setPromptTokens(int value);

    @Description("Apply the model's chat template (user turn, generation prompt, thinking off)")
    @Default.Boolean(false)
    boolean getChat();

    void setChat(boolean value);

    @Description("System prompt used with --chat")
    String getSystem();

    void setSystem(String value);

    @Description("Maximum number of tokens to generate")
    @Default.Integer(64)
    int getMaxNewTokens();

    void setMaxNewTokens(int value);

    @Description("Sampling temperature; 0 is greedy")
    @Default.Float(0f)
    float getTemperature();

    void setTemperature(float value);

    @Description("Keep only the k most likely tokens when sampling; 0 keeps all")
    @Default.Integer(0)
    int getTopK();

    void setTopK(int value);

    @Description("Nucleus sampling: keep the smallest set of tokens whose probability reaches p; 1 keeps all")
    @Default.Float(1f)
    float getTopP();

    void setTopP(float value);

    @Description("Random seed of sampling and of --prompt-tokens filler")
    @Default.Long(0L)
    long getSeed();

    void setSeed(long value);

    @Description("Backend: auto, cpu or cuda")
    @Default.String("auto")
    String getBackend();

    void setBackend(String value);

    @Description("CPU threads; 0 uses all cores")
    @Default.Integer(0)
    int getThreads();

    void setThreads(int value);
}
