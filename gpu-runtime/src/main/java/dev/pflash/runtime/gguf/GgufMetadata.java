package dev.pflash.runtime.gguf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The key/value metadata of a model, in file order, with typed getters that accept any integer
 * width for integer keys (real Qwen3 files store counts as UINT32 although the spec suggests
 * UINT64) and fail with a {@link GgufException} naming the source and the key.
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValue> values;

    public GgufMetadata(String source, Map<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public String source() {
        return source;
    }

    public Map<String, GgufValue> asMap() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private GgufValue require(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new GgufException(source, "missing required metadata key " + key);
        }
        return v;
    }

    public String getString(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, v, "STRING");
        }
        return (String) v.value();
    }

    public Optional<String> findString(String key) {
        return has(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    public long getLong(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof Integer i) {
            return i;
        }
        if (v.value() instanceof Long l) {
            return l;
        }
        throw wrongType(key, v, "an integer");
    }

    /** An integer key that must fit an int (layer counts, dimensions, token ids). */
    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new GgufException(source, "metadata key " + key + " = " + v + " does not fit a 32-bit integer");
        }
        return (int) v;
    }

    public int getInt(String key, int defaultValue) {
        return has(key) ? getInt(key) : defaultValue;
    }

    public float getFloat(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof Number n && (v.type() == GgufValueType.FLOAT32 || v.type() == GgufValueType.FLOAT64)) {
            return n.floatValue();
        }
        throw wrongType(key, v, "a float");
    }

    public float getFloat(String key, float defaultValue) {
        return has(key) ? getFloat(key) : defaultValue;
    }

    public boolean getBool(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        GgufValue v = require(key);
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, v, "BOOL");
        }
        return (Boolean) v.value();
    }

    public List<String> getStringArray(String key) {
        GgufValue.GgufArray a = array(key, GgufValueType.STRING);
        List<String> out = new ArrayList<>(a.elements().size());
        for (Object o : a.elements()) {
            out.add((String) o);
        }
        return out;
    }

    /** An array of any integer element type as ints. */
    public int[] getIntArray(String key) {
        GgufValue.GgufArray a = array(key, null);
        int[] out = new int[a.elements().size()];
        for (int i = 0; i < out.length; i++) {
            Object o = a.elements().get(i);
            if (o instanceof Integer n) {
                out[i] = n;
            } else if (o instanceof Long n && n >= Integer.MIN_VALUE && n <= Integer.MAX_VALUE) {
                out[i] = n.intValue();
            } else {
                throw new GgufException(source, "metadata key " + key + " element " + i + " is not a 32-bit integer");
            }
        }
        return out;
    }

    public float[] getFloatArray(String key) {
        GgufValue.GgufArray a = array(key, null);
        float[] out = new float[a.elements().size()];
        for (int i = 0; i < out.length; i++) {
            if (!(a.elements().get(i) instanceof Number n)) {
                throw new GgufException(source, "metadata key " + key + " element " + i + " is not a number");
            }
            out[i] = n.floatValue();
        }
        return out;
    }

    private GgufValue.GgufArray array(String key, GgufValueType elementType) {
        GgufValue v = require(key);
        if (!(v.value() instanceof GgufValue.GgufArray a)) {
            throw wrongType(key, v, "ARRAY");
        }
        if (elementType != null && a.elementType() != elementType) {
            throw new GgufException(source, "metadata key " + key + " is an array of " + a.elementType()
                    + ", expected an array of " + elementType);
        }
        return a;
    }

    private GgufException wrongType(String key, GgufValue v, String expected) {
        return new GgufException(source, "metadata key " + key + " has type " + v.type() + ", expected " + expected);
    }
}
