package dev.pflash.benchmarks;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.WeightMatrix;
import dev.pflash.runtime.gguf.GgmlType;
import dev.pflash.runtime.gguf.Quantize;
import dev.pflash.runtime.gguf.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@code Backend.matmul} of the CPU backend for every weight type, at Qwen3-0.6B's feed-forward
 * shapes (inputs x outputs: 1024x3072 is ffn_gate/ffn_up, 3072x1024 is ffn_down): one token is a
 * decode step's matrix-vector product, 64 tokens a prefill tile's matrix-matrix product. Weights
 * are random valid blocks of the type (the cost does not depend on their values).
 */
@State(Scope.Benchmark)
public class CpuMatmulBenchmark extends CpuBenchmark {
    @Param({"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16", "F32"})
    public GgmlType type;

    @Param({"1", "64"})
    public int tokens;

    @Param({"1024x3072", "3072x1024"})
    public String shape;

    private Backend backend;
    private WeightMatrix weights;
    private DeviceBuffer x;
    private DeviceBuffer out;

    @Setup(Level.Trial)
    public void setUp(CpuBackendState cpu) {
        String[] io = shape.split("x");
        int inputs = Integer.parseInt(io[0]);
        int outputs = Integer.parseInt(io[1]);
        long elements = (long) inputs * outputs;
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.toIntExact(type.byteSize(elements)))
                .order(ByteOrder.LITTLE_ENDIAN);
        // Weights of variance 1/inputs, as the synthetic models have: outputs of order one.
        Quantize.fillRandom(type, bytes, elements, new SplittableRandom(1), (float) Math.sqrt(3.0 / inputs));
        backend = cpu.backend;
        weights = backend.upload(TensorData.of("bench.weight", type, new long[] {inputs, outputs}, bytes));
        x = backend.upload(CpuBackendState.randomFloats(tokens * inputs, 2));
        out = backend.allocate(tokens * outputs);
    }

    @Benchmark
    public void matmul() {
        backend.matmul(weights, x, tokens, out);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        weights.close();
    }
}
