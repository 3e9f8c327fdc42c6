package dev.pflash.pipeline.output;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.transforms.Combine;

/**
 * Exact nearest-rank percentiles: the p-th percentile of n sorted values is the value at rank
 * ceil(p / 100 * n). Exact rather than approximate because a run's documents number in the
 * thousands to millions, whose values fit in memory.
 */
public final class Percentiles {
    private Percentiles() {
    }

    /** The nearest-rank percentile of values sorted ascending; NaN when there are none. */
    public static double nearestRank(List<Double> sortedValues, double percentile) {
        if (percentile <= 0 || percentile > 100) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + percentile);
        }
        if (sortedValues.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(percentile / 100.0 * sortedValues.size());
        return sortedValues.get(Math.max(rank, 1) - 1);
    }

    /** Collects all values of a PCollection into one ascending list. */
    public static final class SortedValuesFn extends Combine.CombineFn<Double, List<Double>, List<Double>> {
        @Override
        public List<Double> createAccumulator() {
            return new ArrayList<>();
        }

        @Override
        public List<Double> addInput(List<Double> accumulator, Double value) {
            accumulator.add(value);
            return accumulator;
        }

        @Override
        public List<Double> mergeAccumulators(Iterable<List<Double>> accumulators) {
            List<Double> merged = new ArrayList<>();
            for (List<Double> accumulator : accumulators) {
                merged.addAll(accumulator);
            }
            return merged;
        }

        @Override
        public List<Double> extractOutput(List<Double> accumulator) {
            List<Double> sorted = new ArrayList<>(accumulator);
            Collections.sort(sorted);
            return sorted;
        }

        @Override
        public Coder<List<Double>> getAccumulatorCoder(CoderRegistry registry, Coder<Double> inputCoder) {
            return ListCoder.of(DoubleCoder.of());
        }

        @Override
        public Coder<List<Double>> getDefaultOutputCoder(CoderRegistry registry, Coder<Double> inputCoder) {
            return ListCoder.of(DoubleCoder.of());
        }
    }
}
