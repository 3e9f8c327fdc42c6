package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code pflash.jar bench-ttft}: the engine options (models, backend, PFlash constants)
 * and the lengths to time. Each length runs with compression always on and off, without a prefix
 * cache; {@code --prefill-compression} and {@code --prefix-cache-bytes} are not used.
 */
public interface BenchTtftOptions extends EngineOptions {
    @Description("Prompt lengths in tokens, comma-separated")
    @Default.String("4096,8192,16384,32768")
    String getLengths();

    void setLengths(String value);

    @Description("Time dense and PFlash TTFT at each length (false: only the drafter's attention comparison)")
    @Default.Boolean(true)
    boolean getTtft();

    void setTtft(boolean value);

    @Description("Also time the drafter's attention over every block against its block-sparse attention")
    @Default.Boolean(true)
    boolean getCompareAttention();

    void setCompareAttention(boolean value);

    @Description("Prompt tokens of the warm-up run of both engines before the measured ones (JIT compilation); 0 for"
            + " none")
    @Default.Integer(1024)
    int getWarmupTokens();

    void setWarmupTokens(int value);

    @Description("Random seed (the benchmark: of the documents' tokens)")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);
}
