package dev.pflash.runtime.backend;

import dev.pflash.runtime.gguf.TensorData;
import java.util.List;

/**
 * The op list of the transformer forward pass, after ggml: small ops, each with one reference CPU
 * implementation, that every backend implements the same way so that a parity test can compare
 * them op by op. Activations are row-major: a chunk of {@code tokens} vectors of width {@code dim}
 * is {@code tokens * dim} floats, token after token. Buffers and weights must come from the same
 * backend. Outputs may not overlap inputs unless an op says it works in place.
 */
public interface Backend extends AutoCloseable {
    /** Short name: "cpu", "cuda". */
    String name();

    /** Worker threads used by one op (1 for a device backend that runs ops on the device). */
    int threads();

    // ---- memory

    /**
     * Uploads a 2-D weight tensor once, kept in its stored type ({@code rows = ne1}, {@code cols = ne0}).
     *
     * @throws IllegalArgumentException if the tensor has more than two dimensions or a type this backend cannot multiply
     */
    WeightMatrix upload(TensorData tensor);

    /**
     * Uploads a 2-D tensor that is only looked up by row ({@link #embed}), never multiplied: an
     * embedding table with its own LM head beside it. A backend may skip what only its matmuls
     * need; by default this is {@link #upload}.
     */
    default WeightMatrix uploadTable(TensorData tensor) {
        return upload(tensor);
    }

    /** A zero-filled buffer of {@code size} floats. */
    DeviceBuffer allocate(int size);

    /**
     * A zero-filled buffer of {@code size} elements stored as {@code type} (a KV cache in f16 or
     * q8_0). {@link #copy}, {@link #read} and {@link #write} convert between f32 and the other types
     * (to f16 by rounding to nearest even, saturating at the largest finite value; to q8_0 in whole
     * blocks, each value within half its block's step); {@link #attention} reads keys and values of
     * any type. Other ops take F32 buffers only.
     *
     * @throws IllegalArgumentException if this backend cannot store {@code type}
     */
    DeviceBuffer allocate(int size, ElementType type);

    /** A buffer holding a copy of {@code values}. */
    DeviceBuffer upload(float[] values);

    /** Copies all of {@code src} into {@code dst[dstOffset ..]}. */
    void read(DeviceBuffer src, float[] dst, int dstOffset);

    /** Copies {@code dst.size()} floats from {@code src[srcOffset ..]} into {@code dst}. */
    void write(float[] src, int srcOffset, DeviceBuffer dst);

    /** Copies all of {@code src} to the start of {@code dst}. */
    void copy(DeviceBuffer src, DeviceBuffer dst);

    // ---- ops

    /** {@code out[t] = row tokens[t] of table}, dequantized: {@code tokens.length * table.cols()} floats. */
    void embed(WeightMatrix table, int[] tokens, DeviceBuffer out);

    /**
     * {@code out[t][o] = sum_i w[o][i] * x[t][i]} for each of {@code tokens} input vectors: a matrix
     * times a matrix for a prefill chunk, a matrix times a vector for one decode step.
     */
    void matmul(WeightMatrix w, DeviceBuffer x, int tokens, DeviceBuffer out);

    /**
     * RMSNorm of each of {@code rows} rows of {@code dim} floats: {@code out = w * x / sqrt(mean(x^2) + eps)},
     * with {@code weight} ({@code dim} floats) shared by all rows. Per-head q/k norm is this op with
     * {@code rows = tokens * heads} and {@code dim = headDim}. Works in place ({@code out == x}).
     */
    void rmsNorm(DeviceBuffer x, DeviceBuffer weight, int rows, int dim, float eps, DeviceBuffer out);

    /** Adds {@code bias} ({@code dim} floats) to each of {@code rows} rows of {@code x}, in place. */
    void addBias(DeviceBuffer x, DeviceBuffer bias, int rows, int dim);

    /** {@code x[i] += y[i]} for {@code i < n}: the residual connection. */
    void add(DeviceBuffer x, DeviceBuffer y, int n);

    /** {@code out[i] = silu(gate[i]) * up[i]} for {@code i < n}, {@code silu(z) = z / (1 + e^-z)}. Works in place ({@code out == gate}). */
    void swiglu(DeviceBuffer gate, DeviceBuffer up, int n, DeviceBuffer out);

    /**
     * Rotates, in place, each of {@code heads} heads of {@code headDim} floats of each of
     * {@code tokens} tokens by that token's position {@code positions[t]}.
     */
    void rope(DeviceBuffer x, int tokens, int heads, int headDim, int[] positions, RotaryEmbedding rope);

    /**
     * Causal grouped-query attention of a chunk of queries over a KV cache. {@code q} holds
     * {@code tokens} rows of {@code shape.queryDim()}; {@code keys} and {@code values} hold the cache,
     * one row of {@code shape.kvDim()} per cached token, with the chunk's own keys and values
     * already stored at rows {@code firstIndex ..}. Query {@code t} is the token at cache row
     * {@code firstIndex + t} and attends to rows {@code 0 .. firstIndex + t}; {@code out} gets
     * {@code tokens} rows of {@code shape.queryDim()}, head by head.
     */
    void attention(DeviceBuffer q, DeviceBuffer keys, DeviceBuffer values, int tokens, int firstIndex,
            AttentionShape shape, DeviceBuffer out);

    /**
     * The attention of several sequences' chunks, each over its own cache, as one op: a packed
     * decode step of a batch. Each chunk gets exactly what its own {@link #attention(DeviceBuffer,
     * DeviceBuffer, DeviceBuffer, int, int, AttentionShape, DeviceBuffer) attention} call gives; a
     * backend that can spread all of them over its threads at once does (one dispatch instead of
     * one per sequence), the default runs them one by one.
     */
    default void attention(List<AttentionChunk> chunks, AttentionShape shape) {
        for (AttentionChunk c : chunks) {
            attention(c.q(), c.keys(), c.values(), c.tokens(), c.firstIndex(), shape, c.out());
        }
    }

    // ---- ops of the qwen35 hybrid layers (gated attention, Gated DeltaNet; QWEN35-HYBRID.md)

    /**
     * Splits each of {@code rows} rows of {@code first + second} floats of {@code packed} into a row
     * of {@code first} floats of {@code a} and a row of {@code second} floats of {@code b}: the query
     * and gate heads that gated attention projects side by side.
     */
    default void split(DeviceBuffer packed, int rows, int first, int second, DeviceBuffer a, DeviceBuffer b) {
        throw hybridUnsupported();
    }

    /** {@code x[i] *= sigmoid(gate[i])} for {@code i < n}: the output gate of gated attention. */
    default void sigmoidMul(DeviceBuffer x, DeviceBuffer gate, int n) {
        throw hybridUnsupported();
    }

    /**
     * Causal depthwise convolution of {@code tokens} rows of {@code channels} followed by SiLU:
     * {@code out[t][c] = silu(sum_j weight[c][j] * u[t - (kernel-1) + j][c])}, where rows before
     * the first come from {@code state} ({@code kernel - 1} rows, oldest first). Afterwards
     * {@code state} holds the last {@code kernel - 1} raw inputs.
     */
    default void causalConvSilu(DeviceBuffer x, int tokens, int channels, DeviceBuffer weight, int kernel,
            DeviceBuffer state, DeviceBuffer out) {
        throw hybridUnsupported();
    }

    /**
     * The per-token gates of a DeltaNet layer, in place for {@code tokens} rows of {@code heads}:
     * {@code alpha <- softplus(alpha + dtBias) * a} (the log-decay g, at most 0 since {@code a < 0})
     * and {@code beta <- sigmoid(beta)}.
     */
    default void deltaNetGates(DeviceBuffer alpha, DeviceBuffer beta, DeviceBuffer dtBias, DeviceBuffer a,
            int tokens, int heads) {
        throw hybridUnsupported();
    }

    /**
     * The gated delta rule over {@code tokens} consecutive tokens of one sequence. {@code qkv} holds
     * each token's convolved row ({@link DeltaNetShape#channels()}); q and k heads are L2-normalized
     * and q scaled by {@code 1/sqrt(keyDim)} here. Per value head, with {@code S} from {@code state}
     * ({@code keyDim x valueDim} each): {@code S <- e^g S; S <- S + k (beta (v - S^T k))^T; o = S^T q}.
     * {@code out} gets {@code tokens} rows of {@link DeltaNetShape#valueWidth()}; {@code state} is
     * left after the last token. A backend may compute a chunk at once (the WY form) as long as the
     * result equals the token-by-token recurrence within float rounding.
     */
    default void deltaNet(DeviceBuffer qkv, DeviceBuffer g, DeviceBuffer beta, int tokens, DeltaNetShape shape,
            DeviceBuffer state, DeviceBuffer out) {
        throw hybridUnsupported();
    }

    /**
     * {@code out = rmsNorm(x) * weight * silu(z)} for each of {@code rows} rows of {@code dim}: the
     * DeltaNet output norm, gated by z. Works in place ({@code out == x}).
     */
    default void rmsNormGated(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer z, int rows, int dim, float eps,
            DeviceBuffer out) {
        throw hybridUnsupported();
    }

    /** Whether this backend implements the ops of the qwen35 hybrid layers. */
    default boolean runsHybridLayers() {
        return false;
    }

    private IllegalStateException hybridUnsupported() {
        return new IllegalStateException("the " + name() + " backend does not run qwen35 (Gated DeltaNet) layers yet;"
                + " use --backend=cpu");
    }

    /** Releases the backend's threads or device context; weights and buffers are unusable afterwards. */
    @Override
    void close();
}
