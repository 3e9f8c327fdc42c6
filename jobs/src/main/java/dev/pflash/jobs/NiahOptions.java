package dev.pflash.jobs;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Options of {@code pflash.jar niah}: the engine options (models, backend, PFlash constants) and the
 * cases to generate. Every case runs with compression always on and, for the dense baseline, off;
 * {@code --prefill-compression} is not used.
 */
public interface NiahOptions extends EngineOptions {
    @Description("Prompt lengths in tokens, comma-separated; each case fills the prompt up to this length minus"
            + " --answer-tokens")
    @Default.String("8192,32768")
    String getContext();

    void setContext(String value);

    @Description("Cases per length (each one standard and one variant prompt)")
    @Default.Integer(3)
    int getCases();

    void setCases(int value);

    @Description("Random seed (niah: of the filler text, keys, values and needle depths)")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);

    @Description("Tokens generated per prompt (greedy); the value must appear in them")
    @Default.Integer(16)
    int getAnswerTokens();

    void setAnswerTokens(int value);

    @Description("PFlash lexical anchors (4-grams of the question found in the document)")
    @Default.Boolean(true)
    boolean getAnchors();

    void setAnchors(boolean value);

    @Description("Also run every prompt without compression, for the dense TTFT and retrieval baseline")
    @Default.Boolean(true)
    boolean getDense();

    void setDense(boolean value);
}
