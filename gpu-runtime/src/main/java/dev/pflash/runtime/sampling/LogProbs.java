package dev.pflash.runtime.sampling;

/**
 * Log-probabilities from logits, computed in double so that scores of long label sequences add up
 * without float drift. A row is {@code length} logits from {@code offset}, so that one row of a
 * forward pass's all-token logits can be read in place.
 */
public final class LogProbs {
    private LogProbs() {
    }

    /** {@code log(sum_i exp(logits[offset + i]))}, shifted by the maximum so it never overflows. */
    public static double logSumExp(float[] logits, int offset, int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("log-sum-exp of an empty row");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        if (max == Double.NEGATIVE_INFINITY || Double.isNaN(max)) {
            return max;
        }
        double sum = 0;
        for (int i = 0; i < length; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        return max + Math.log(sum);
    }

    /** The log-probability of {@code token} under the softmax of the row. */
    public static double logProb(float[] logits, int offset, int length, int token) {
        if (token < 0 || token >= length) {
            throw new IllegalArgumentException("token " + token + " outside a row of " + length + " logits");
        }
        return logits[offset + token] - logSumExp(logits, offset, length);
    }

    /** The log-softmax of the row. */
    public static double[] logSoftmax(float[] logits, int offset, int length) {
        double lse = logSumExp(logits, offset, length);
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            out[i] = logits[offset + i] - lse;
        }
        return out;
    }

    /** The log-softmax of all of {@code logits}. */
    public static double[] logSoftmax(float[] logits) {
        return logSoftmax(logits, 0, logits.length);
    }
}
