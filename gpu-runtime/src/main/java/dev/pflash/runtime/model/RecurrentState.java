package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;

/**
 * The fixed-size state of one sequence in the DeltaNet layers of a hybrid model: per layer the
 * recurrent matrices {@code S} (one {@code dk x dv} per value head) and the last
 * {@code convKernel - 1} convolution inputs. Unlike KV rows it summarizes every token so far and
 * cannot be cut back to a shorter prefix: resuming at an earlier position needs a copy taken there.
 * Not thread-safe.
 */
public final class RecurrentState implements AutoCloseable {
    private final Backend backend;
    private final DeviceBuffer[] ssm;
    private final DeviceBuffer[] conv;

    /** A zero state (the state before the first token) for {@code config}'s DeltaNet layers. */
    public RecurrentState(ModelConfig config, Backend backend) {
        HybridLayout layout = config.hybrid().orElseThrow(() -> new IllegalArgumentException("model " + config.name()
                + " has no DeltaNet layers"));
        this.backend = backend;
        this.ssm = new DeviceBuffer[config.layers()];
        this.conv = new DeviceBuffer[config.layers()];
        for (int l = 0; l < config.layers(); l++) {
            if (config.layerKind(l) == LayerKind.DELTA_NET) {
                ssm[l] = backend.allocate(layout.deltaNet().stateSize());
                conv[l] = backend.allocate(layout.convStateSize());
            }
        }
    }

    /** The recurrent matrices of DeltaNet layer {@code layer}. */
    public DeviceBuffer ssm(int layer) {
        return existing(ssm, layer);
    }

    /** The convolution inputs kept for DeltaNet layer {@code layer}, oldest row first. */
    public DeviceBuffer conv(int layer) {
        return existing(conv, layer);
    }

    /** An independent copy of this state: a snapshot to restore later with {@link #copyFrom}. */
    public RecurrentState copy() {
        RecurrentState c = new RecurrentState(this);
        c.copyFrom(this);
        return c;
    }

    private RecurrentState(RecurrentState shapeOf) {
        this.backend = shapeOf.backend;
        this.ssm = new DeviceBuffer[shapeOf.ssm.length];
        this.conv = new DeviceBuffer[shapeOf.conv.length];
        for (int l = 0; l < ssm.length; l++) {
            if (shapeOf.ssm[l] != null) {
                ssm[l] = backend.allocate(shapeOf.ssm[l].size());
                conv[l] = backend.allocate(shapeOf.conv[l].size());
            }
        }
    }

    /** Makes this state a copy of {@code other}, a state of the same model. */
    public void copyFrom(RecurrentState other) {
        if (other.ssm.length != ssm.length) {
            throw new IllegalArgumentException("recurrent state of " + other.ssm.length + " layers copied into one of "
                    + ssm.length);
        }
        for (int l = 0; l < ssm.length; l++) {
            if (ssm[l] != null) {
                backend.copy(other.ssm[l], ssm[l]);
                backend.copy(other.conv[l], conv[l]);
            }
        }
    }

    /** Bytes of state held. */
    public long bytes() {
        long floats = 0;
        for (int l = 0; l < ssm.length; l++) {
            if (ssm[l] != null) {
                floats += ssm[l].size() + conv[l].size();
            }
        }
        return floats * Float.BYTES;
    }

    private static DeviceBuffer existing(DeviceBuffer[] buffers, int layer) {
        if (buffers[layer] == null) {
            throw new IllegalArgumentException("layer " + layer + " is not a DeltaNet layer");
        }
        return buffers[layer];
    }

    @Override
    public void close() {
        for (int l = 0; l < ssm.length; l++) {
            if (ssm[l] != null) {
                ssm[l].close();
                conv[l].close();
            }
        }
    }
}
