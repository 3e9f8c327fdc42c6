package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.FakeEngine;
import dev.pflash.runtime.engine.EngineConfig;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EngineHolderTest {
    @Test
    void sharesOneEngineAndClosesItWithTheLastLease() {
        EngineConfig config = new EngineConfig("fake:100:holder-shared", null, "cpu", 1, null);
        AtomicInteger opens = new AtomicInteger();
        EngineOpener opener = c -> {
            opens.incrementAndGet();
            return FakeEngine.open(c);
        };

        EngineHolder.Lease first = EngineHolder.acquire(config, opener);
        EngineHolder.Lease second = EngineHolder.acquire(config, opener);
        FakeEngine engine = FakeEngine.lastOpened(config.model());

        assertThat(opens).hasValue(1);
        assertThat(first.engine()).isSameAs(second.engine()).isSameAs(engine);
        assertThat(EngineHolder.users(config)).isEqualTo(2);

        first.close();
        first.close();
        assertThat(EngineHolder.users(config)).isEqualTo(1);
        assertThat(engine.isClosed()).isFalse();

        second.close();
        assertThat(EngineHolder.users(config)).isZero();
        assertThat(engine.isClosed()).isTrue();
        assertThatThrownBy(second::engine).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void differentConfigsGetDifferentEngines() {
        EngineConfig cpu = new EngineConfig("fake:100:holder-a", null, "cpu", 1, null);
        EngineConfig other = new EngineConfig("fake:100:holder-b", null, "cpu", 1, null);

        try (EngineHolder.Lease a = EngineHolder.acquire(cpu, FakeEngine::open);
                EngineHolder.Lease b = EngineHolder.acquire(other, FakeEngine::open)) {
            assertThat(a.engine()).isNotSameAs(b.engine());
        }
        assertThat(EngineHolder.users(cpu)).isZero();
        assertThat(EngineHolder.users(other)).isZero();
    }

    @Test
    void aFailedOpenLeavesNothingBehind() {
        EngineConfig config = new EngineConfig("fake:100:holder-broken", null, "cpu", 1, null);
        EngineOpener broken = c -> {
            throw new IllegalArgumentException("model.gguf: not a GGUF file");
        };

        assertThatThrownBy(() -> EngineHolder.acquire(config, broken)).hasMessage("model.gguf: not a GGUF file");
        assertThat(EngineHolder.users(config)).isZero();
    }
}
