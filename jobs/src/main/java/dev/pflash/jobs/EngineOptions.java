package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Options every job shares that choose and configure the engine: models, backend, PFlash, KV and prefix cache. */
public interface EngineOptions extends PipelineOptions {
    @Description("Target model: a GGUF file (Qwen3 family, Qwen3.5/3.6 hybrids) or synthetic:<preset>. The default"
            + " demo model has random weights: its summaries are noise")
    @Default.String("sample-data/models/demo-target.gguf")
    String getModel();

    void setModel(String value);

    @Description("Drafter model for PFlash: a GGUF file (ideally sharing the target's tokenizer), synthetic:<preset>,"
            + " or none (which needs --prefill-compression=off)")
    @Default.String("sample-data/models/demo-drafter.gguf")
    String getDrafter();

    void setDrafter(String value);

    @Description("Backend: auto (CUDA when a GPU and its driver are found, else CPU), cpu or cuda")
    @Default.String("auto")
    String getBackend();

    void setBackend(String value);

    @Description("CPU threads for the CPU backend; 0 uses every core")
    @Default.Integer(0)
    int getThreads();

    void setThreads(int value);

    @Description("System prompt that the chat template puts first; empty for none")
    @Default.String("")
    String getSystemPrompt();

    void setSystemPrompt(String value);

    @Description("PFlash speculative prefill: off, auto (compress a body when the predicted time to first token with"
            + " PFlash is below the dense one, or from --compression-threshold when given) or always")
    @Default.String("auto")
    String getPrefillCompression();

    void setPrefillCompression(String value);

    @Description("PFlash: fraction of body chunks the target prefills")
    @Default.Double(0.05)
    double getKeepRatio();

    void setKeepRatio(double value);

    @Description("PFlash: the drafter's block-sparse attention keeps key blocks scoring at least alpha x the best")
    @Default.Double(0.85)
    double getAlpha();

    void setAlpha(double value);

    @Description("PFlash: body tokens from which --prefill-compression=auto compresses. Not given: auto compares the"
            + " predicted time to first token with and without PFlash, from the speed the engine measures for its"
            + " backend and models")
    Integer getCompressionThreshold();

    void setCompressionThreshold(Integer value);

    @Description("Byte budget of the prefix KV cache shared by all prompts (least recently used blocks go first);"
            + " 0 switches it off")
    @Default.Long(1L << 30)
    long getPrefixCacheBytes();

    void setPrefixCacheBytes(long value);

    @Description("How the KV cache and the prefix cache store keys and values: f16 (half the memory of f32;"
            + " attention still computes in f32), f32, or q8_0 (CPU only, about a quarter; heads of a multiple of 32"
            + " dims)")
    @Default.String("f16")
    String getKvCacheType();

    void setKvCacheType(String value);

    @Description("Where each worker copies models given as a URI (gs://, s3://, hdfs://, ... any Beam file system)"
            + " before mapping them: one copy per host, verified by size and SHA-256; empty for"
            + " <java.io.tmpdir>/pflash-models of the worker")
    @Default.String("")
    String getModelCacheDir();

    void setModelCacheDir(String value);

    @Description("Seconds a worker keeps the engine loaded after its last DoFn tears down, so that runners that"
            + " set up DoFns per task (Spark) load the model once per worker JVM; 0 unloads it at once")
    @Default.Integer(60)
    int getEngineKeepAliveSeconds();

    void setEngineKeepAliveSeconds(int value);
}
