package dev.pflash.runtime.backend.cpu;

import java.util.Arrays;

/**
 * Per-thread working arrays of the CPU attention, grown on demand and reused so that attention
 * allocates nothing per token: a tile's scaled queries and their last visible keys, every row's
 * scores of one key step, f16 keys and values staged as floats, the softmax states of a tile, and
 * the per-(sequence, kv head, key segment) states a split decode combines, and where each
 * sequence's tasks start.
 */
final class AttentionScratch {
    /** The merged state of a tile and the state of its current key segment. */
    final SoftmaxState total = new SoftmaxState();
    final SoftmaxState segment = new SoftmaxState();
    private float[] queries = new float[0];
    private float[][] headQueries = new float[0][];
    private float[] transposedQueries = new float[0];
    private int[] last = new int[0];
    private float[] scores = new float[0];
    private float[] keyRows = new float[0];
    private float[] valueRows = new float[0];
    private SoftmaxState[] splits = new SoftmaxState[0];
    private int[] taskStarts = new int[1];

    float[] queries(int n) {
        if (queries.length < n) {
            queries = new float[n];
        }
        return queries;
    }

    /** At least {@code heads} arrays of at least {@code n} floats: the queries of each head of a split-decode task. */
    float[][] headQueries(int heads, int n) {
        if (headQueries.length < heads) {
            headQueries = Arrays.copyOf(headQueries, heads);
        }
        for (int i = 0; i < heads; i++) {
            if (headQueries[i] == null || headQueries[i].length < n) {
                headQueries[i] = new float[n];
            }
        }
        return headQueries;
    }

    float[] transposedQueries(int n) {
        if (transposedQueries.length < n) {
            transposedQueries = new float[n];
        }
        return transposedQueries;
    }

    int[] last(int n) {
        if (last.length < n) {
            last = new int[n];
        }
        return last;
    }

    float[] scores(int n) {
        if (scores.length < n) {
            scores = new float[n];
        }
        return scores;
    }

    float[] keyRows(int n) {
        if (keyRows.length < n) {
            keyRows = new float[n];
        }
        return keyRows;
    }

    float[] valueRows(int n) {
        if (valueRows.length < n) {
            valueRows = new float[n];
        }
        return valueRows;
    }

    /** At least {@code n} ints, the first 0: where each sequence's tasks and states of a split decode start. */
    int[] taskStarts(int n) {
        if (taskStarts.length < n) {
            taskStarts = new int[n];
        }
        return taskStarts;
    }

    /** At least {@code n} states, one per piece of a split decode. */
    SoftmaxState[] splits(int n) {
        if (splits.length < n) {
            SoftmaxState[] grown = java.util.Arrays.copyOf(splits, n);
            for (int i = splits.length; i < n; i++) {
                grown[i] = new SoftmaxState();
            }
            splits = grown;
        }
        return splits;
    }
}
