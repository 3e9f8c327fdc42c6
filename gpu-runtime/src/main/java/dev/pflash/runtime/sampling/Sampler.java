package dev.pflash.runtime.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits. Greedy (temperature 0 or top-k 1) takes the highest logit,
 * the lowest id among ties. Otherwise, as Hugging Face's generate does: logits divided by the
 * temperature, top-k keeps the k most likely tokens, top-p keeps the most likely tokens whose
 * probabilities (after top-k) first reach p, and one token is drawn from what is left in
 * proportion to its probability. Draws come from a {@link SplittableRandom} seeded once, so the
 * same seed and the same logits give the same tokens. Not thread-safe: one sampler per sequence.
 */
public final class Sampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private final SplittableRandom random;

    /**
     * @param temperature 0 for greedy, else > 0
     * @param topK 0 for no top-k filter, else the number of tokens kept
     * @param topP in (0, 1]; 1 for no nucleus filter
     * @param seed seed of the draws
     */
    public Sampler(float temperature, int topK, float topP, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /** The argmax sampler. */
    public static Sampler greedy() {
        return new Sampler(0f, 0, 1f, 0L);
    }

    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    /** The next token id, an index into {@code logits}. */
    public int sample(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("cannot sample from empty logits");
        }
        if (isGreedy()) {
            return argmax(logits);
        }
        int n = logits.length;
        float max = logits[argmax(logits)];
        if (Float.isNaN(max) || Float.isInfinite(max)) {
            throw new IllegalArgumentException("cannot sample: the largest logit is " + max);
        }
        boolean useTopK = topK > 0 && topK < n;
        boolean useTopP = topP < 1f;

        // Unnormalized probabilities exp((l - max) / T); the largest is 1.
        double[] weight = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            weight[i] = Math.exp((logits[i] - max) / temperature);
            total += weight[i];
        }

        int[] candidates;
        if (useTopK) {
            candidates = topIds(logits, topK);
            total = 0;
            for (int id : candidates) {
                total += weight[id];
            }
        } else if (useTopP) {
            // Tokens below (1 - p) / (n - 1) of the mass together weigh less than 1 - p, so the nucleus
            // lies among the others: sort only those.
            double cutoff = (1 - topP) / (n - 1) * total;
            int[] kept = new int[n];
            int count = 0;
            for (int i = 0; i < n; i++) {
                if (weight[i] >= cutoff) {
                    kept[count++] = i;
                }
            }
            candidates = sortByLogitDescending(logits, Arrays.copyOf(kept, count));
        } else {
            candidates = null;
        }

        int keep = candidates == null ? n : candidates.length;
        double mass = total;
        if (useTopP) {
            double cumulative = 0;
            for (int r = 0; r < candidates.length; r++) {
                cumulative += weight[candidates[r]];
                if (cumulative >= topP * total) {
                    keep = r + 1;
                    break;
                }
            }
            mass = Math.min(cumulative, total);
        }

        double u = random.nextDouble() * mass;
        double cumulative = 0;
        for (int r = 0; r < keep; r++) {
            int id = candidates == null ? r : candidates[r];
            cumulative += weight[id];
            if (u < cumulative) {
                return id;
            }
        }
        // Rounding can leave u a hair above the last cumulative sum: that is the last kept token.
        return candidates == null ? lastPositive(weight) : candidates[keep - 1];
    }

    /** The index of the largest logit, the lowest among equals. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int lastPositive(double[] weight) {
        for (int i = weight.length - 1; i > 0; i--) {
            if (weight[i] > 0) {
                return i;
            }
        }
        return 0;
    }

    /** The {@code k} ids of the largest logits, best first (ties: lower id first). */
    private static int[] topIds(float[] logits, int k) {
        // Max-heap of packed keys: the root is the worst of the k best so far.
        long[] heap = new long[k];
        int size = 0;
        for (int i = 0; i < logits.length; i++) {
            long key = rankKey(logits[i], i);
            if (size < k) {
                heap[size] = key;
                siftUp(heap, size++);
            } else if (key < heap[0]) {
                heap[0] = key;
                siftDown(heap, k);
            }
        }
        Arrays.sort(heap);
        int[] ids = new int[k];
        for (int i = 0; i < k; i++) {
            ids[i] = (int) heap[i];
        }
        return ids;
    }

    private static int[] sortByLogitDescending(float[] logits, int[] ids) {
        long[] keys = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            keys[i] = rankKey(logits[ids[i]], ids[i]);
        }
        Arrays.sort(keys);
        int[] sorted = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            sorted[i] = (int) keys[i];
        }
        return sorted;
    }

    /** A key whose ascending order is descending logit, then ascending id. */
    private static long rankKey(float logit, int id) {
        int bits = Float.floatToIntBits(logit + 0f);
        int ordered = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
        return ((long) ~ordered << 32) | id;
    }

    private static void siftUp(long[] heap, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (heap[parent] >= heap[i]) {
                return;
            }
            long tmp = heap[parent];
            heap[parent] = heap[i];
            heap[i] = tmp;
            i = parent;
        }
    }

    private static void siftDown(long[] heap, int size) {
        int i = 0;
        while (true) {
            int left = 2 * i + 1;
            int largest = i;
            if (left < size && heap[left] > heap[largest]) {
                largest = left;
            }
            if (left + 1 < size && heap[left + 1] > heap[largest]) {
                largest = left + 1;
            }
            if (largest == i) {
                return;
            }
            long tmp = heap[largest];
            heap[largest] = heap[i];
            heap[i] = tmp;
            i = largest;
        }
    }
}
