package dev.pflash.runtime.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One metadata value with the type it is stored as, so that a write of what was read gives the
 * same bytes. Java representation: UINT8/INT8/UINT16/INT16/UINT32/INT32 as Integer (UINT32 as
 * Long), UINT64/INT64 as Long, FLOAT32 as Float, FLOAT64 as Double, BOOL as Boolean, STRING as
 * String, ARRAY as {@link GgufArray}.
 */
public record GgufValue(GgufValueType type, Object value) {
    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
    }

    /** An array value: element type and elements in the Java representation above. */
    public record GgufArray(GgufValueType elementType, List<?> elements) {
        public GgufArray {
            Objects.requireNonNull(elementType, "elementType");
            elements = List.copyOf(elements);
        }
    }

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, s);
    }

    public static GgufValue ofUInt32(long v) {
        return new GgufValue(GgufValueType.UINT32, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue ofStrings(List<String> v) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, v));
    }

    public static GgufValue ofInt32s(List<Integer> v) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(GgufValueType.INT32, v));
    }

    public static GgufValue ofFloat32s(List<Float> v) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, v));
    }
}
