package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.runtime.backend.ElementType;
import org.junit.jupiter.api.Test;

/** The KV cache type option reaches the engine config, with f16 as the default and a clear error otherwise. */
class EngineConfigsTest {
    private static EngineOptions options(String... extra) {
        String[] args = new String[extra.length + 2];
        args[0] = "--model=synthetic:cpu-drafter";
        args[1] = "--drafter=none";
        System.arraycopy(extra, 0, args, 2, extra.length);
        return CommandOptions.parse(args, EngineOptions.class);
    }

    @Test
    void kvCacheTypeDefaultsToF16AndTakesF32AndQ8() {
        assertThat(EngineConfigs.from(options()).kvCacheType()).isEqualTo(ElementType.F16);
        assertThat(EngineConfigs.from(options("--kv-cache-type=f32")).kvCacheType()).isEqualTo(ElementType.F32);
        assertThat(EngineConfigs.from(options("--kv-cache-type=F16")).kvCacheType()).isEqualTo(ElementType.F16);
        assertThat(EngineConfigs.from(options("--kv-cache-type=q8_0")).kvCacheType()).isEqualTo(ElementType.Q8_0);
    }

    @Test
    void anUnknownKvCacheTypeNamesTheOptionAndTheChoices() {
        assertThatThrownBy(() -> EngineConfigs.from(options("--kv-cache-type=q4")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--kv-cache-type=q4 is not a KV cache type; use f16, f32 or q8_0");
    }
}
