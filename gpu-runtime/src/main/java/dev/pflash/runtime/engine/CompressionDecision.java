package dev.pflash.runtime.engine;

import java.util.Locale;

/**
 * Why a prompt's body was or was not compressed, with the time to first token each way as the
 * engine predicted it (NaN where it made no prediction). The predictions cover what differs
 * between the two ways: the drafter pass, the selection and the target prefill after the prefix.
 *
 * @param reason           how the choice was made
 * @param compressed       whether PFlash compressed the body
 * @param predictedDenseMs predicted target prefill of the whole body and suffix
 * @param predictedPflashMs predicted drafter pass + selection + target prefill of the kept body and suffix
 */
public record CompressionDecision(Reason reason, boolean compressed, double predictedDenseMs,
        double predictedPflashMs) {

    public enum Reason {
        /** Compression is off, or there is no drafter. */
        OFF,
        /** {@code always}. */
        ALWAYS,
        /** {@code auto} with an explicit threshold. */
        THRESHOLD,
        /** {@code auto} by predicted cost. */
        COST,
        /** The whole prompt would not fit the context window, so the body was compressed until it did. */
        FIT;

        String columnValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Nothing was predicted: off, always, or a threshold decided. */
    public static CompressionDecision unpredicted(Reason reason, boolean compressed) {
        return new CompressionDecision(reason, compressed, Double.NaN, Double.NaN);
    }

    /** No compression because it is off (for results made without a decision, such as a test engine's). */
    public static CompressionDecision off() {
        return unpredicted(Reason.OFF, false);
    }

    /**
     * The decision as it turned out: a selection that kept the whole body did not compress it, and a
     * body compressed though not asked was compressed to fit the context window.
     */
    CompressionDecision outcome(boolean done) {
        Reason why = done && !compressed ? Reason.FIT : reason;
        return new CompressionDecision(why, done, predictedDenseMs, predictedPflashMs);
    }

    /**
     * The decision as the results tables write it: {@code <reason>:<compress|dense>}, such as
     * {@code cost:compress} or {@code threshold:dense}.
     */
    public String columnValue() {
        return reason.columnValue() + ":" + (compressed ? "compress" : "dense");
    }
}
