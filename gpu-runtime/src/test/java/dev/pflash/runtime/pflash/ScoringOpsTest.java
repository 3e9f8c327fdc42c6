package dev.pflash.runtime.pflash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.PflashOps;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tail-scoring, smoothing and chunk ops on the CPU against their definitions. */
class ScoringOpsTest {
    private static CpuBackend backend;
    private static PflashOps ops;

    @BeforeAll
    static void setUp() {
        backend = new CpuBackend(2);
        ops = PflashOps.forBackend(backend);
    }

    @AfterAll
    static void tearDown() {
        ops.close();
        backend.close();
    }

    @Test
    void tailProbabilitiesAreCausalSoftmaxesMaximisedOverHeadsAndLayers() {
        AttentionShape shape = new AttentionShape(4, 2, 8, 0.35f);
        int keys = 50;
        int tail = 3;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] q = new float[tail * shape.queryDim()];
        float[][] layerKeys = new float[2][keys * shape.kvDim()];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (float[] k : layerKeys) {
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) rnd.nextDouble(-1, 1);
            }
        }
        float[] got = new float[tail * keys];
        try (DeviceBuffer qb = backend.upload(q); DeviceBuffer logits = backend.allocate(tail * 4 * keys);
                DeviceBuffer max = backend.allocate(tail * keys)) {
            for (float[] k : layerKeys) {
                try (DeviceBuffer kb = backend.upload(k)) {
                    // Keys arrive in two runs, as chunks of a layer do.
                    ops.tailLogits(qb, tail, kb.slice(0, 20 * shape.kvDim()), 20, 0, shape, keys, logits);
                    ops.tailLogits(qb, tail, kb.slice(20 * shape.kvDim(), 30 * shape.kvDim()), 30, 20, shape, keys,
                            logits);
                }
                ops.tailProbabilityMax(logits, tail, 4, keys, max);
            }
            backend.read(max, got, 0);
        }
        for (int t = 0; t < tail; t++) {
            int visible = keys - tail + t + 1;
            for (int j = 0; j < keys; j++) {
                double want = 0;
                for (float[] k : layerKeys) {
                    for (int h = 0; h < 4; h++) {
                        double[] p = new double[visible];
                        double sum = 0;
                        for (int jj = 0; jj < visible; jj++) {
                            double dot = 0;
                            for (int d = 0; d < 8; d++) {
                                dot += q[t * 32 + h * 8 + d] * k[jj * 16 + (h / 2) * 8 + d];
                            }
                            p[jj] = Math.exp(0.35 * dot);
                            sum += p[jj];
                        }
                        if (j < visible) {
                            want = Math.max(want, p[j] / sum);
                        }
                    }
                }
                assertThat((double) got[t * keys + j]).as("tail %d key %d", t, j).isCloseTo(want, within(1e-6));
            }
        }
    }

    @Test
    void averagePoolDividesEdgesByTheirValidTaps() {
        float[] x = {13, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        float[] out = run(x, b -> {
            try (DeviceBuffer o = backend.allocate(x.length)) {
                ops.averagePool(b, x.length, 5, o);
                float[] r = new float[x.length];
                backend.read(o, r, 0);
                return r;
            }
        });
        // Position 0 averages x[0..2] (3 taps), 1 averages x[0..3] (4), 2 averages x[0..4] (5), 3 no longer sees x[0].
        assertThat(out).containsExactly(13f / 3, 13f / 4, 13f / 5, 0, 0, 0, 0, 0, 0, 0);
        assertThatThrownBy(() -> run(x, b -> {
            ops.averagePool(b, x.length, 4, b);
            return x;
        })).hasMessageContaining("odd");
    }

    @Test
    void chunkMeansAverageEachChunkAndTheShortLastOne() {
        float[] x = {1, 2, 3, 4, 5, 6, 7};
        float[] out = run(x, b -> {
            try (DeviceBuffer o = backend.allocate(3)) {
                ops.chunkMeans(b, x.length, 3, o);
                float[] r = new float[3];
                backend.read(o, r, 0);
                return r;
            }
        });
        assertThat(out).containsExactly(2f, 5f, 7f);
    }

    private static float[] run(float[] x, java.util.function.Function<DeviceBuffer, float[]> op) {
        try (DeviceBuffer b = backend.upload(x)) {
            return op.apply(b);
        }
    }
}
