package dev.pflash.runtime.backend.cuda;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A card's dense f16 tensor-core peak with f32 accumulation, in TFLOP/s: from the vendor's data
 * sheet for known cards (sparsity figures halved), else estimated from the SM count and clock.
 *
 * @param source "data sheet" or how it was estimated
 */
record TensorCorePeak(double tflops, String source) {
    /** Name fragments, most specific first; dense f16 with f32 accumulate. */
    private static final Map<String, Double> DATA_SHEET = new LinkedHashMap<>();

    static {
        DATA_SHEET.put("H200 NVL", 835.5);
        DATA_SHEET.put("H200", 989.5);
        DATA_SHEET.put("H100 NVL", 835.5);
        DATA_SHEET.put("H100 PCIE", 756.5);
        DATA_SHEET.put("H100", 989.5);
        DATA_SHEET.put("H800", 989.5);
        DATA_SHEET.put("A100", 312.0);
        DATA_SHEET.put("A800", 312.0);
        DATA_SHEET.put("A30", 165.0);
        DATA_SHEET.put("A10", 125.0);
        DATA_SHEET.put("L40S", 362.0);
        DATA_SHEET.put("L40", 181.0);
        DATA_SHEET.put("L4", 121.0);
        DATA_SHEET.put("RTX 4090", 165.2);
        DATA_SHEET.put("RTX 3090 TI", 80.0);
        DATA_SHEET.put("RTX 3090", 71.0);
        DATA_SHEET.put("RTX A6000", 154.8);
    }

    static TensorCorePeak of(CudaDeviceInfo device) {
        String name = device.name().toUpperCase(Locale.ROOT);
        for (Map.Entry<String, Double> e : DATA_SHEET.entrySet()) {
            if (name.contains(e.getKey())) {
                return new TensorCorePeak(e.getValue(), "data sheet (" + e.getKey() + ")");
            }
        }
        // Dense f16 FLOP per SM per clock with f32 accumulation: 2048 on Ampere A100, 4096 on Hopper;
        // GeForce Ampere/Ada run f32 accumulation at half rate (512).
        int perClock = switch (device.computeCapability() / 10) {
            case 9 -> 4096;
            case 8 -> device.computeCapability() == 80 ? 2048 : 512;
            default -> 4096;
        };
        if (device.clockKhz() <= 0) {
            return new TensorCorePeak(Double.NaN, "unknown (the driver reports no clock)");
        }
        double tflops = device.multiprocessors() * (device.clockKhz() * 1e3) * perClock / 1e12;
        return new TensorCorePeak(tflops, "estimate: " + device.multiprocessors() + " SMs x "
                + device.clockKhz() / 1000 + " MHz x " + perClock + " FLOP/clock");
    }
}
