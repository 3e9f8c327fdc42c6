package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pflash.pipeline.FakeEngine;
import dev.pflash.runtime.engine.EngineConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.api.Test;

class WorkerEngineOpenerTest {
    @Test
    void localModelsOpenAsTheyAre() {
        AtomicReference<EngineConfig> opened = new AtomicReference<>();
        EngineOpener recording = c -> {
            opened.set(c);
            return new FakeEngine(100);
        };
        EngineConfig config = new EngineConfig("/shared/target.gguf", "synthetic:qwen3-0.6b", "cpu", 2, null);

        new WorkerEngineOpener(recording, "", Duration.ofSeconds(5)).open(config);

        assertThat(opened.get()).isSameAs(config);
    }

    @Test
    void carriesItsKeepAliveAndCacheToTheWorkers() {
        WorkerEngineOpener opener = new WorkerEngineOpener(FakeEngine::open, "/var/cache/pflash", Duration.ofSeconds(90));

        WorkerEngineOpener onWorker = SerializableUtils.clone(opener);

        assertThat(onWorker.keepAlive()).isEqualTo(Duration.ofSeconds(90));
        assertThat(onWorker.cacheDirectory()).isEqualTo(Path.of("/var/cache/pflash"));
        assertThat(new WorkerEngineOpener(FakeEngine::open, " ", Duration.ZERO).cacheDirectory())
                .isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "pflash-models"));
        assertThatThrownBy(() -> new WorkerEngineOpener(FakeEngine::open, "", Duration.ofSeconds(-1)))
                .hasMessage("engine keep-alive must be 0 or more, got PT-1S");
    }
}
