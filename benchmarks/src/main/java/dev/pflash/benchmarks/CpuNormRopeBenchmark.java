package dev.pflash.benchmarks;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.RopeStyle;
import dev.pflash.runtime.backend.RotaryEmbedding;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The small ops of every layer on the CPU backend at Qwen3-0.6B's widths: {@code rmsNorm} of the
 * 1024-wide hidden state and {@code rope} of the 16 query heads of 128, for one token (decode) or
 * a chunk of 64. A decode step runs each several times per layer, so their fixed cost counts.
 */
@State(Scope.Benchmark)
public class CpuNormRopeBenchmark extends CpuBenchmark {
    private static final int EMBEDDING = 1024;
    private static final int HEADS = 16;
    private static final int HEAD_DIM = 128;

    @Param({"1", "64"})
    public int tokens;

    private Backend backend;
    private DeviceBuffer hidden;
    private DeviceBuffer normWeight;
    private DeviceBuffer normed;
    private DeviceBuffer queries;
    private int[] positions;
    private RotaryEmbedding rope;

    @Setup(Level.Trial)
    public void setUp(CpuBackendState cpu) {
        backend = cpu.backend;
        hidden = backend.upload(CpuBackendState.randomFloats(tokens * EMBEDDING, 1));
        normWeight = backend.upload(CpuBackendState.randomFloats(EMBEDDING, 2));
        normed = backend.allocate(tokens * EMBEDDING);
        queries = backend.upload(CpuBackendState.randomFloats(tokens * HEADS * HEAD_DIM, 3));
        positions = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            positions[t] = 1000 + t;
        }
        rope = RotaryEmbedding.of(RopeStyle.NEOX, HEAD_DIM, 1_000_000, null);
    }

    @Benchmark
    public void rmsNorm() {
        backend.rmsNorm(hidden, normWeight, tokens, EMBEDDING, 1e-6f, normed);
    }

    /** Rotates the same queries again each call: a rotation keeps their norms, so the values stay in range. */
    @Benchmark
    public void rope() {
        backend.rope(queries, tokens, HEADS, HEAD_DIM, positions, rope);
    }
}
