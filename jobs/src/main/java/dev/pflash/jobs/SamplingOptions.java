package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * How text is decoded, shared by every command that generates. Declared once because Beam
 * requires one default per option name across all options interfaces of a JVM.
 */
public interface SamplingOptions extends PipelineOptions {
    @Description("Most tokens generated per answer")
    @Default.Integer(200)
    int getMaxNewTokens();

    void setMaxNewTokens(int value);

    @Description("Sampling temperature; 0 decodes greedily")
    @Default.Float(0.7f)
    float getTemperature();

    void setTemperature(float value);

    @Description("Sample from the k most likely tokens only; 0 switches the filter off")
    @Default.Integer(20)
    int getTopK();

    void setTopK(int value);

    @Description("Sample from the smallest set of tokens whose probabilities add up to p; 1 switches the filter off")
    @Default.Float(0.8f)
    float getTopP();

    void setTopP(float value);

    @Description("Random seed of sampling: the same seed, models and input give the same output")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);
}
