package dev.pflash.benchmarks;

import dev.pflash.runtime.backend.AttentionShape;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@code Backend.attention} of the CPU backend over one layer's KV cache, with Qwen3-0.6B's heads
 * (16 query heads over 8 kv heads of 128): the last {@code tokens} rows of a cache of
 * {@code context} rows attend causally to it. One token is a decode step, 64 a prefill chunk.
 * {@code -p kvType=F16} (or {@code Q8_0}) measures a cache stored in f16 (q8_0), where the backend stores
 * that type.
 */
@State(Scope.Benchmark)
public class CpuAttentionBenchmark extends CpuBenchmark {
    private static final AttentionShape QWEN3_0_6B = new AttentionShape(16, 8, 128, (float) (1 / Math.sqrt(128)));

    @Param({"1", "64"})
    public int tokens;

    @Param({"512", "4096"})
    public int context;

    @Param({"F32"})
    public ElementType kvType;

    private Backend backend;
    private DeviceBuffer q;
    private DeviceBuffer keys;
    private DeviceBuffer values;
    private DeviceBuffer out;

    @Setup(Level.Trial)
    public void setUp(CpuBackendState cpu) {
        if (tokens > context) {
            throw new IllegalArgumentException(tokens + " query tokens do not fit a cache of " + context + " rows");
        }
        backend = cpu.backend;
        int kvFloats = context * QWEN3_0_6B.kvDim();
        keys = backend.allocate(kvFloats, kvType);
        values = backend.allocate(kvFloats, kvType);
        backend.write(CpuBackendState.randomFloats(kvFloats, 1), 0, keys);
        backend.write(CpuBackendState.randomFloats(kvFloats, 2), 0, values);
        q = backend.upload(CpuBackendState.randomFloats(tokens * QWEN3_0_6B.queryDim(), 3));
        out = backend.allocate(tokens * QWEN3_0_6B.queryDim());
    }

    @Benchmark
    public void attention() {
        backend.attention(q, keys, values, tokens, context - tokens, QWEN3_0_6B, out);
    }
}
