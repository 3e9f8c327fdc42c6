package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.FakeEngine;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
        assertThat(EngineHolder.timesOpened(config)).isEqualTo(1);
        assertThat(first.engine()).isSameAs(second.engine()).isSameAs(engine);
        assertThat(EngineHolder.users(config)).isEqualTo(2);

        first.close();
        first.close();
        assertThat(EngineHolder.users(config)).isEqualTo(1);
        assertThat(engine.isClosed()).isFalse();

        second.close();
        assertThat(EngineHolder.users(config)).isZero();
        assertThat(EngineHolder.isOpen(config)).isFalse();
        assertThat(engine.isClosed()).isTrue();
        assertThatThrownBy(second::engine).isInstanceOf(IllegalStateException.class);
    }

    /** What a runner does when it sets up many DoFn instances at once: one load, one engine. */
    @Test
    void concurrentSetupsLoadTheModelOnce() throws Exception {
        EngineConfig config = new EngineConfig("fake:100:holder-concurrent", null, "cpu", 1, null);
        AtomicInteger opens = new AtomicInteger();
        CountDownLatch loading = new CountDownLatch(1);
        EngineOpener slowOpener = c -> {
            opens.incrementAndGet();
            loading.countDown();
            sleep(200);
            return FakeEngine.open(c);
        };
        int instances = 8;
        CyclicBarrier start = new CyclicBarrier(instances);
        ExecutorService threads = Executors.newFixedThreadPool(instances);
        List<Future<EngineHolder.Lease>> leases = new ArrayList<>();
        try {
            for (int i = 0; i < instances; i++) {
                leases.add(threads.submit(() -> {
                    start.await();
                    return EngineHolder.acquire(config, slowOpener);
                }));
            }
            List<Engine> engines = new ArrayList<>();
            for (Future<EngineHolder.Lease> lease : leases) {
                engines.add(lease.get(30, TimeUnit.SECONDS).engine());
            }

            assertThat(opens).hasValue(1);
            assertThat(EngineHolder.timesOpened(config)).isEqualTo(1);
            assertThat(engines).hasSize(instances).allSatisfy(e -> assertThat(e).isSameAs(engines.get(0)));
            assertThat(EngineHolder.users(config)).isEqualTo(instances);
        } finally {
            for (Future<EngineHolder.Lease> lease : leases) {
                lease.get().close();
            }
            threads.shutdownNow();
        }
        assertThat(EngineHolder.isOpen(config)).isFalse();
        assertThat(FakeEngine.lastOpened(config.model()).isClosed()).isTrue();
    }

    /** Spark sets up and tears down its DoFns for every task: the next task takes the kept engine over. */
    @Test
    void keepAliveLetsTheNextUserReuseTheEngineThenClosesIt() throws Exception {
        EngineConfig config = new EngineConfig("fake:100:holder-keep-alive", null, "cpu", 1, null);
        AtomicInteger opens = new AtomicInteger();
        EngineOpener opener = new KeepAliveOpener(opens, Duration.ofSeconds(1));

        EngineHolder.acquire(config, opener).close();
        FakeEngine engine = FakeEngine.lastOpened(config.model());
        assertThat(EngineHolder.isOpen(config)).isTrue();
        assertThat(engine.isClosed()).isFalse();

        EngineHolder.Lease next = EngineHolder.acquire(config, opener);
        assertThat(next.engine()).isSameAs(engine);
        assertThat(opens).hasValue(1);
        sleep(1500);
        assertThat(engine.isClosed()).as("a lease is open, so the pending close was cancelled").isFalse();

        next.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (EngineHolder.isOpen(config) && System.nanoTime() < deadline) {
            sleep(20);
        }
        assertThat(EngineHolder.isOpen(config)).isFalse();
        assertThat(engine.isClosed()).isTrue();
        assertThat(EngineHolder.timesOpened(config)).isEqualTo(1);
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
    void aFailedOpenNamesTheWorkerAndTheModelAndLeavesNothingBehind() {
        EngineConfig config = new EngineConfig("/models/broken.gguf", "/models/drafter.gguf", "cpu", 1, null);
        EngineOpener broken = c -> {
            throw new IllegalArgumentException("/models/broken.gguf: not a GGUF file");
        };

        assertThatThrownBy(() -> EngineHolder.acquire(config, broken))
                .isInstanceOf(EngineLoadException.class)
                .hasMessage(WorkerName.current() + " cannot load the model /models/broken.gguf (drafter"
                        + " /models/drafter.gguf) on backend cpu: /models/broken.gguf: not a GGUF file")
                .hasCauseInstanceOf(IllegalArgumentException.class);
        assertThat(WorkerName.current()).matches("worker \\S+ \\(JVM pid " + ProcessHandle.current().pid() + "\\)");
        assertThat(EngineHolder.users(config)).isZero();
        assertThat(EngineHolder.isOpen(config)).isFalse();
        assertThat(EngineHolder.timesOpened(config)).isZero();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static final class KeepAliveOpener implements EngineOpener {
        private final transient AtomicInteger opens;
        private final Duration keepAlive;

        KeepAliveOpener(AtomicInteger opens, Duration keepAlive) {
            this.opens = opens;
            this.keepAlive = keepAlive;
        }

        @Override
        public Engine open(EngineConfig config) {
            opens.incrementAndGet();
            return FakeEngine.open(config);
        }

        @Override
        public Duration keepAlive() {
            return keepAlive;
        }
    }
}
