package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code pflash.jar bench-prefix}: the engine options (model, backend, prefix cache
 * budget) and the shape of the shared-prefix workload. The drafter and PFlash are not used: every
 * case prefills whole prompts, so that only the prefix reuse differs.
 */
public interface PrefixBenchOptions extends EngineOptions {
    @Description("Documents of the workload")
    @Default.Integer(100)
    int getDocs();

    void setDocs(int value);

    @Description("Tokens of the instruction prefix every prompt shares (chat framing included)")
    @Default.Integer(1024)
    int getPrefixTokens();

    void setPrefixTokens(int value);

    @Description("Fewest body tokens of a document; body lengths are spread evenly up to --max-body-tokens")
    @Default.Integer(1024)
    int getMinBodyTokens();

    void setMinBodyTokens(int value);

    @Description("Most body tokens of a document")
    @Default.Integer(4096)
    int getMaxBodyTokens();

    void setMaxBodyTokens(int value);

    @Description("Prompts per engine batch in the batched cases")
    @Default.Integer(8)
    int getBatchSize();

    void setBatchSize(int value);

    @Description("Labels of the classification comparison")
    @Default.Integer(10)
    int getLabelCount();

    void setLabelCount(int value);

    @Description("Documents of the classification comparison (the first ones of the workload); 0 skips it")
    @Default.Integer(10)
    int getClassifyDocs();

    void setClassifyDocs(int value);

    @Description("Random seed of the documents' tokens")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);
}
