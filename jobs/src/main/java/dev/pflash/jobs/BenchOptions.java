package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code pflash.jar bench}: the model, backend and threads of the engine options, and
 * the tests to run, after llama.cpp's {@code llama-bench} ({@code -p}, {@code -n}, {@code -pg},
 * {@code -d}, {@code -r}, {@code -o}). The drafter, PFlash and prefix-cache options are not used: every test
 * runs the target's forward pass alone.
 */
public interface BenchOptions extends EngineOptions {
    @Description("Prompt lengths of the prefill tests ppN, comma-separated; 0 runs none")
    @Default.String("512,2048")
    String getPromptTokens();

    void setPromptTokens(String value);

    @Description("Tokens of the decode tests tgN, comma-separated; 0 runs none")
    @Default.String("128")
    String getGenTokens();

    void setGenTokens(String value);

    @Description("Sequences decoded together in the decode tests, comma-separated: 1 is tgN, 8 is tgNx8 (8 times N"
            + " tokens, each step one packed forward pass of 8 tokens)")
    @Default.String("1,8")
    String getBatch();

    void setBatch(String value);

    @Description("Combined tests ppP+tgG (prefill P tokens, then decode G, timed together), comma-separated pairs"
            + " P+G such as 512+128; empty runs none")
    @Default.String("")
    String getPromptGen();

    void setPromptGen(String value);

    @Description("Depths: each test also runs from this many tokens already in the cache (prefilled untimed), named"
            + " 'tg128 @ d2048' as llama-bench -d names it; comma-separated, 0 for an empty cache")
    @Default.String("0")
    String getDepth();

    void setDepth(String value);

    @Description("Measured runs of each test; the table gives their mean tokens/s and standard deviation")
    @Default.Integer(5)
    int getRepetitions();

    void setRepetitions(int value);

    @Description("One unmeasured run of each test before the measured ones (JIT compilation, page faults)")
    @Default.Boolean(true)
    boolean getWarmup();

    void setWarmup(boolean value);

    @Description("Table format: md, csv or json")
    @Default.String("md")
    String getOutput();

    void setOutput(String value);

    @Description("Random seed of the prompt tokens")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);
}
