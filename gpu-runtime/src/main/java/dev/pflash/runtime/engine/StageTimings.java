package dev.pflash.runtime.engine;

/**
 * Milliseconds spent in each engine stage for one prompt. TTFT runs from the start of prefill
 * (tokens in hand) to the first generated token: prefix lookup + draft + select + target
 * prefill + the first sampling step. Stages that did not run are 0.
 */
public record StageTimings(double prefixLookupMs, double draftMs, double selectMs, double targetPrefillMs,
        double ttftMs, double decodeMs) {
    public static final StageTimings ZERO = new StageTimings(0, 0, 0, 0, 0, 0);
}
