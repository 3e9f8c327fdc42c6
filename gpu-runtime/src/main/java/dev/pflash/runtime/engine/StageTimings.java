package dev.pflash.runtime.engine;

/**
 * Milliseconds spent in each engine stage for one prompt. TTFT runs from the start of prefill
 * (tokens in hand) to the first generated token: prefix lookup + draft + select + target
 * prefill + the first sampling step. Stages that did not run are 0.
 *
 * <p>A prompt prefilled in a batch with others gets its share of the batch's work as its stage
 * times (the prompt that computed the shared prefix is charged with it; the packed pass is shared
 * in proportion to tokens), so that the stage times of a batch add up to its time; its TTFT and
 * decode time stay its own latency, from the start of the batch's prefill to its first token and
 * from there to its last.
 */
public record StageTimings(double prefixLookupMs, double draftMs, double selectMs, double targetPrefillMs,
        double ttftMs, double decodeMs) {
    public static final StageTimings ZERO = new StageTimings(0, 0, 0, 0, 0, 0);
}
