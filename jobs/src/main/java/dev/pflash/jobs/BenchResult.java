package dev.pflash.jobs;

import java.util.Arrays;

/** The measured runs of one {@link BenchTest}: tokens per second of each run, their mean and standard deviation. */
record BenchResult(BenchTest test, double[] tokensPerSecond) {

    double mean() {
        return Arrays.stream(tokensPerSecond).average().orElse(Double.NaN);
    }

    /** The sample standard deviation (n - 1), as llama-bench gives it; 0 for a single run. */
    double sd() {
        int n = tokensPerSecond.length;
        if (n < 2) {
            return 0;
        }
        double mean = mean();
        double squares = 0;
        for (double r : tokensPerSecond) {
            squares += (r - mean) * (r - mean);
        }
        return Math.sqrt(squares / (n - 1));
    }
}
