package dev.pflash.runtime.model;

import dev.pflash.runtime.gguf.GgufException;
import java.util.Arrays;

/** Shape checks of model tensors whose messages name the file, the tensor and the formula expected. */
final class TensorShapes {
    private TensorShapes() {
    }

    /**
     * @param formula the expected dims in model terms, ne0 first, e.g. "[E, H*D]"
     * @throws GgufException "tensor blk.0.attn_q.weight has dims [1024, 2048], expected [E, H*D] = [1024, 4096]"
     */
    static void expect(String source, String tensor, long[] dims, String formula, long... expected) {
        if (!Arrays.equals(dims, expected)) {
            throw new GgufException(source, "tensor " + tensor + " has dims " + Arrays.toString(dims) + ", expected "
                    + formula + " = " + Arrays.toString(expected));
        }
    }
}
