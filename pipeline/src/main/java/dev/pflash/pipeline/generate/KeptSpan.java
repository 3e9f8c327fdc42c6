package dev.pflash.pipeline.generate;

import dev.pflash.runtime.engine.KeySpan;
import java.io.Serializable;

/** A kept run of body tokens {@code [start, end)} in document body positions, with its mean score. */
public record KeptSpan(int start, int end, float score) implements Serializable {
    /** The engine's span of a window whose body starts at {@code bodyOffset} in the document. */
    static KeptSpan of(KeySpan span, int bodyOffset) {
        return new KeptSpan(span.start() + bodyOffset, span.end() + bodyOffset, span.score());
    }
}
