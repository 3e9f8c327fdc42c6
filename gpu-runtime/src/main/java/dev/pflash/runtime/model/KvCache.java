package dev.pflash.runtime.model;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import java.util.Optional;

/**
 * The keys and values of one sequence, per layer, on the model's backend: row {@code i} of a
 * layer's key (or value) storage holds token {@code i}'s {@code KV*D} elements (keys after RoPE),
 * stored as {@link #type()}: {@link #DEFAULT_TYPE f16} unless asked otherwise, half the memory of
 * f32 (values are rounded to nearest even as they are stored; attention computes in f32), or q8_0
 * on the CPU, about a quarter (blocks of 32 values of one head's row sharing a scale).
 * Storage grows geometrically (by half), in whole steps of {@link #GROWTH_STEP} tokens and with
 * some headroom, up to the context length; {@link #reserve} sizes it once when the final length
 * (prompt plus tokens to generate) is known, which avoids copies. {@link #truncate} drops a tail
 * for reuse, {@link #fork} copies the cached prefix into an independent cache and {@link #copyFrom}
 * into an existing one. A hybrid model's
 * cache also holds the sequence's {@link RecurrentState} for its DeltaNet layers (which keep no KV
 * rows); that state cannot be truncated, only copied. Not thread-safe.
 */
public final class KvCache implements AutoCloseable {
    /** Storage capacity is a multiple of this many tokens (or the context length). */
    public static final int GROWTH_STEP = 256;
    /** How a cache stores keys and values unless the engine is configured otherwise. */
    public static final ElementType DEFAULT_TYPE = ElementType.F16;

    private final ModelConfig config;
    private final Backend backend;
    private final ElementType type;
    private final DeviceBuffer[] keys;
    private final DeviceBuffer[] values;
    /** The DeltaNet layers' state of a hybrid model, else null. */
    private final RecurrentState recurrent;
    private int capacity;
    private int length;

    /** An empty cache of the {@link #DEFAULT_TYPE} for a sequence of {@code config}'s model on {@code backend}. */
    public KvCache(ModelConfig config, Backend backend) {
        this(config, backend, DEFAULT_TYPE);
    }

    /** An empty cache for a sequence of {@code config}'s model on {@code backend}, storing {@code type}. */
    public KvCache(ModelConfig config, Backend backend, ElementType type) {
        if (config.headDim() % type.blockElements() != 0) {
            throw new IllegalArgumentException("model " + config.name() + " has heads of " + config.headDim()
                    + " dims; a " + type.label() + " KV cache stores blocks of "
                    + type.blockElements() + " and needs a multiple of that: use f16 or f32");
        }
        this.config = config;
        this.backend = backend;
        this.type = type;
        this.keys = new DeviceBuffer[config.layers()];
        this.values = new DeviceBuffer[config.layers()];
        this.recurrent = config.hybrid().isPresent() ? new RecurrentState(config, backend) : null;
        allocate(0);
    }

    /** The DeltaNet layers' state of a hybrid model's sequence; empty for a model of attention layers only. */
    public Optional<RecurrentState> recurrent() {
        return Optional.ofNullable(recurrent);
    }

    /** Tokens cached (in every layer). */
    public int length() {
        return length;
    }

    /** Tokens the current storage holds without growing. */
    public int capacity() {
        return capacity;
    }

    public ModelConfig config() {
        return config;
    }

    /** How keys and values are stored. */
    public ElementType type() {
        return type;
    }

    /** Bytes of key and value storage allocated (capacity, not length), plus any recurrent state. */
    public long bytes() {
        return capacity * config.kvBytesPerToken(type) + (recurrent == null ? 0 : recurrent.bytes());
    }

    /**
     * Makes room for {@code tokens} tokens in total, keeping the cached ones.
     *
     * @throws IllegalArgumentException if {@code tokens} exceeds the model's context length
     */
    public void reserve(int tokens) {
        if (tokens <= capacity) {
            return;
        }
        if (tokens > config.contextLength()) {
            throw new IllegalArgumentException("sequence of " + tokens + " tokens exceeds the context window of "
                    + config.contextLength() + " tokens of model " + config.name());
        }
        // At least one step of headroom: a prefill is usually followed by decode steps, which
        // should not each trigger a copy of the whole cache.
        long grown = Math.max(tokens, capacity + capacity / 2L);
        long rounded = (grown / GROWTH_STEP + 1) * GROWTH_STEP;
        resize((int) Math.min(rounded, config.contextLength()));
    }

    /**
     * Forgets every token from index {@code n} on; the storage is kept for reuse.
     *
     * @throws IllegalStateException when a recurrent state would have to be cut back
     */
    public void truncate(int n) {
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " tokens to " + n);
        }
        if (recurrent != null && n != length) {
            throw new IllegalStateException("cannot truncate the cache of hybrid model " + config.name() + " from "
                    + length + " to " + n + " tokens: its recurrent state cannot be cut back; fork a copy instead");
        }
        length = n;
    }

    /**
     * Goes back to the first {@code n} tokens of a hybrid model's sequence: KV rows are cut back and
     * the recurrent state becomes {@code state}, which must be a copy taken when the cache held
     * exactly those {@code n} tokens (e.g. after a prompt, before scoring each label).
     */
    public void rewind(int n, RecurrentState state) {
        if (n < 0 || n > length) {
            throw new IllegalArgumentException("cannot rewind a cache of " + length + " tokens to " + n);
        }
        if (recurrent == null) {
            throw new IllegalStateException("model " + config.name() + " has no recurrent state; truncate instead");
        }
        recurrent.copyFrom(state);
        length = n;
    }

    /** An independent cache holding a copy of this one's {@link #length()} tokens. */
    public KvCache fork() {
        KvCache copy = new KvCache(config, backend, type);
        copy.copyFrom(this);
        return copy;
    }

    /**
     * Makes this cache hold a copy of {@code source}'s tokens (and recurrent state), in the storage
     * it already has where that is large enough: a run that reuses its caches writes to memory it
     * has touched before. Copying an empty cache empties this one, a hybrid model's state included.
     *
     * @throws IllegalArgumentException if {@code source} belongs to another model or stores another type
     */
    public void copyFrom(KvCache source) {
        if (source == this) {
            return;
        }
        if (!source.config.equals(config) || source.type != type) {
            throw new IllegalArgumentException("cannot copy a " + source.type.label() + " cache of model "
                    + source.config.name() + " into a " + type.label() + " cache of model " + config.name());
        }
        length = 0;
        reserve(source.length);
        int n = source.length * config.kvDim();
        for (int l = 0; l < keys.length; l++) {
            if (config.layerKind(l).hasKvCache()) {
                backend.copy(source.keys[l].slice(0, n), keys[l]);
                backend.copy(source.values[l].slice(0, n), values[l]);
            }
        }
        if (recurrent != null) {
            recurrent.copyFrom(source.recurrent);
        }
        length = source.length;
    }

    /** Key storage of {@code layer}: {@link #capacity()} rows of {@code KV*D} elements. */
    public DeviceBuffer keys(int layer) {
        return keys[layer];
    }

    /** Value storage of {@code layer}, laid out like {@link #keys}. */
    public DeviceBuffer values(int layer) {
        return values[layer];
    }

    /**
     * Writes {@code tokens} rows of keys {@code k} and values {@code v} of {@code layer} at rows
     * {@code start ..}; call {@link #commit} once every layer holds them.
     */
    public void store(int layer, DeviceBuffer k, DeviceBuffer v, int start, int tokens) {
        if (start < 0 || start > length || start + tokens > capacity) {
            throw new IllegalArgumentException("cannot store " + tokens + " tokens at row " + start
                    + " of a cache of " + length + " tokens and capacity " + capacity);
        }
        int dim = config.kvDim();
        backend.copy(k.slice(0, tokens * dim), keys[layer].slice(start * dim, tokens * dim));
        backend.copy(v.slice(0, tokens * dim), values[layer].slice(start * dim, tokens * dim));
    }

    /** Extends the cached length by {@code tokens} rows that {@link #store} wrote in every layer. */
    public void commit(int tokens) {
        if (tokens < 0 || length + tokens > capacity) {
            throw new IllegalArgumentException("cannot commit " + tokens + " tokens to a cache of " + length
                    + " tokens and capacity " + capacity);
        }
        length += tokens;
    }

    private void resize(int newCapacity) {
        DeviceBuffer[] oldKeys = keys.clone();
        DeviceBuffer[] oldValues = values.clone();
        allocate(newCapacity);
        int n = length * config.kvDim();
        for (int l = 0; l < keys.length; l++) {
            if (config.layerKind(l).hasKvCache()) {
                backend.copy(oldKeys[l].slice(0, n), keys[l]);
                backend.copy(oldValues[l].slice(0, n), values[l]);
            }
            oldKeys[l].close();
            oldValues[l].close();
        }
    }

    private void allocate(int newCapacity) {
        int size = Math.multiplyExact(newCapacity, config.kvDim());
        for (int l = 0; l < keys.length; l++) {
            // DeltaNet layers keep no rows: an empty buffer keeps every layer index valid.
            int layerSize = config.layerKind(l).hasKvCache() ? size : 0;
            keys[l] = backend.allocate(layerSize, type);
            values[l] = backend.allocate(layerSize, type);
        }
        capacity = newCapacity;
    }

    /** Releases the storage; the cache is unusable afterwards. */
    @Override
    public void close() {
        for (int l = 0; l < keys.length; l++) {
            keys[l].close();
            values[l].close();
        }
        if (recurrent != null) {
            recurrent.close();
        }
        capacity = 0;
        length = 0;
    }
}
