package dev.pflash.runtime.pflash;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import java.util.EnumMap;
import java.util.Map;

/**
 * Accounts for the backend memory a PFlash step holds, by kind: bytes held now and the peak, so
 * that a claim such as "the drafter holds the keys and values of one layer at a time" is a number
 * that a test can check and a log can show. Buffers are allocated through the ledger and released
 * by closing what it returns. Not thread-safe: one ledger per PFlash step.
 */
public final class MemoryLedger {
    /** What a buffer holds. */
    public enum Kind {
        /** Attention keys and values of a drafter layer. */
        KEYS_VALUES,
        /** The residual stream of every prompt token, carried from layer to layer. */
        HIDDEN_STATES,
        /** Block means, block scores, tail logits and probabilities. */
        SCORING,
        /** Per-chunk activations of the forward pass. */
        ACTIVATIONS
    }

    private final Map<Kind, Long> held = new EnumMap<>(Kind.class);
    private final Map<Kind, Long> peak = new EnumMap<>(Kind.class);
    private long heldTotal;
    private long peakTotal;

    /** A zero-filled buffer of {@code floats} floats on {@code backend}, counted as {@code kind} until closed. */
    public Allocation allocate(Backend backend, Kind kind, int floats) {
        DeviceBuffer buffer = backend.allocate(floats);
        long bytes = (long) floats * Float.BYTES;
        long now = held.merge(kind, bytes, Long::sum);
        peak.merge(kind, now, Math::max);
        heldTotal += bytes;
        peakTotal = Math.max(peakTotal, heldTotal);
        return new Allocation(buffer, kind, bytes);
    }

    /** Bytes of {@code kind} held now. */
    public long heldBytes(Kind kind) {
        return held.getOrDefault(kind, 0L);
    }

    /** The most bytes of {@code kind} held at once. */
    public long peakBytes(Kind kind) {
        return peak.getOrDefault(kind, 0L);
    }

    /** Bytes of every kind held now. */
    public long heldBytes() {
        return heldTotal;
    }

    /** The most bytes of all kinds together held at once. */
    public long peakBytes() {
        return peakTotal;
    }

    @Override
    public String toString() {
        return "MemoryLedger[held " + held + ", peak " + peak + ", peak total " + peakTotal + " bytes]";
    }

    /** A counted buffer; closing it releases the buffer and its count. */
    public final class Allocation implements AutoCloseable {
        private final DeviceBuffer buffer;
        private final Kind kind;
        private final long bytes;
        private boolean closed;

        private Allocation(DeviceBuffer buffer, Kind kind, long bytes) {
            this.buffer = buffer;
            this.kind = kind;
            this.bytes = bytes;
        }

        public DeviceBuffer buffer() {
            return buffer;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                buffer.close();
                held.merge(kind, -bytes, Long::sum);
                heldTotal -= bytes;
            }
        }
    }
}
