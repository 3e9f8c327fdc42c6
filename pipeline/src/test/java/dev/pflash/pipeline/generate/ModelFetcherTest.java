package dev.pflash.pipeline.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fetcher's copy, verification and reuse, on Beam's local file system (which reads any path
 * the same way it reads a remote URI).
 */
class ModelFetcherTest {
    /** sha256 of the 3 bytes "abc". */
    private static final String ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @TempDir
    Path dir;

    @Test
    void tellsRemoteUrisFromLocalFilesAndSyntheticModels() {
        assertThat(ModelFetcher.isRemote("gs://bucket/models/qwen3-8b.gguf")).isTrue();
        assertThat(ModelFetcher.isRemote("hdfs://nn:8020/models/qwen3-8b.gguf")).isTrue();
        assertThat(ModelFetcher.isRemote("s3://bucket/qwen3-8b.gguf")).isTrue();
        assertThat(ModelFetcher.isRemote("/shared/models/qwen3-8b.gguf")).isFalse();
        assertThat(ModelFetcher.isRemote("models/qwen3-8b.gguf")).isFalse();
        assertThat(ModelFetcher.isRemote("file:///shared/models/qwen3-8b.gguf")).isFalse();
        assertThat(ModelFetcher.isRemote("synthetic:qwen3-0.6b")).isFalse();

        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));
        assertThat(fetcher.localSpec("/shared/models/qwen3-8b.gguf")).isEqualTo("/shared/models/qwen3-8b.gguf");
        assertThat(fetcher.localSpec("synthetic:qwen3-0.6b")).isEqualTo("synthetic:qwen3-0.6b");
        assertThat(fetcher.localSpec(null)).isNull();
    }

    @Test
    void copiesOnceVerifiesAndRecordsTheHash() throws IOException {
        Path source = write(dir.resolve("store/model.gguf"), "abc");
        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));

        Path copy = fetcher.fetch(source.toString());

        assertThat(copy).isEqualTo(fetcher.cachePath(source.toString())).hasFileName("model.gguf");
        assertThat(copy.getParent().getParent()).isEqualTo(dir.resolve("cache"));
        assertThat(Files.readString(copy)).isEqualTo("abc");
        assertThat(Files.readString(copy.resolveSibling("model.gguf.sha256"))).isEqualTo(ABC_SHA256 + "  model.gguf\n");
        assertThat(copy.resolveSibling("model.gguf.part")).doesNotExist();

        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(copy, old);
        assertThat(fetcher.fetch(source.toString())).isEqualTo(copy);
        assertThat(Files.getLastModifiedTime(copy)).as("a verified copy is not copied again").isEqualTo(old);
    }

    @Test
    void sameFileNameFromTwoPlacesGetsTwoCopies() throws IOException {
        Path a = write(dir.resolve("a/model.gguf"), "abc");
        Path b = write(dir.resolve("b/model.gguf"), "defg");
        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));

        Path copyA = fetcher.fetch(a.toString());
        Path copyB = fetcher.fetch(b.toString());

        assertThat(copyA).isNotEqualTo(copyB);
        assertThat(Files.readString(copyA)).isEqualTo("abc");
        assertThat(Files.readString(copyB)).isEqualTo("defg");
    }

    @Test
    void checksThePublishedHashBesideTheSource() throws IOException {
        Path source = write(dir.resolve("store/model.gguf"), "abc");
        write(dir.resolve("store/model.gguf.sha256"), ABC_SHA256.toUpperCase() + "  model.gguf\n");
        assertThat(new ModelFetcher(dir.resolve("cache")).fetch(source.toString())).content().isEqualTo("abc");

        Path other = write(dir.resolve("other/model.gguf"), "abd");
        write(dir.resolve("other/model.gguf.sha256"), ABC_SHA256 + "\n");
        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));
        assertThatThrownBy(() -> fetcher.fetch(other.toString()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(other + ": sha256 ")
                .hasMessageContaining(" differs from " + ABC_SHA256 + " in " + other + ".sha256");
        Path target = fetcher.cachePath(other.toString());
        assertThat(target).doesNotExist();
        assertThat(target.resolveSibling("model.gguf.part")).doesNotExist();
    }

    @Test
    void aCopyWithoutItsHashRecordOrOfAnotherSizeIsMadeAgain() throws IOException {
        Path source = write(dir.resolve("store/model.gguf"), "abc");
        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));
        Path target = fetcher.cachePath(source.toString());
        write(target, "half-copied");

        assertThat(fetcher.fetch(source.toString())).content().isEqualTo("abc");

        write(source, "abcdef");
        assertThat(fetcher.fetch(source.toString())).content().isEqualTo("abcdef");
        assertThat(Files.readString(target.resolveSibling("model.gguf.sha256")))
                .isEqualTo("bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721  model.gguf\n");
    }

    @Test
    void aMissingModelNamesTheUriAndTheWorker() {
        String missing = dir.resolve("store/none.gguf").toString();
        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));

        assertThatThrownBy(() -> fetcher.fetch(missing))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessage(missing + ": " + WorkerName.current() + " cannot copy the model to "
                        + fetcher.cachePath(missing) + ": no such model file");
    }

    @Test
    void concurrentFetchesShareOneCopy() throws Exception {
        Path source = write(dir.resolve("store/model.gguf"), "x".repeat(3 << 20));
        ModelFetcher fetcher = new ModelFetcher(dir.resolve("cache"));
        int users = 6;
        CyclicBarrier start = new CyclicBarrier(users);
        ExecutorService threads = Executors.newFixedThreadPool(users);
        try {
            List<Future<Path>> copies = new ArrayList<>();
            for (int i = 0; i < users; i++) {
                copies.add(threads.submit(() -> {
                    start.await();
                    return fetcher.fetch(source.toString());
                }));
            }
            for (Future<Path> copy : copies) {
                assertThat(copy.get(30, TimeUnit.SECONDS)).isEqualTo(fetcher.cachePath(source.toString()));
            }
        } finally {
            threads.shutdownNow();
        }
        Path folder = fetcher.cachePath(source.toString()).getParent();
        try (Stream<Path> files = Files.list(folder)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .containsExactlyInAnyOrder("model.gguf", "model.gguf.sha256", "model.gguf.lock");
        }
        assertThat(Files.size(fetcher.cachePath(source.toString()))).isEqualTo(3 << 20);
    }

    private static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
