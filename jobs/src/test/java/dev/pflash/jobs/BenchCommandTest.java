package dev.pflash.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.DeviceBuffer;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.CpuBackend;
import dev.pflash.runtime.gguf.GgufFile;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.ModelSources;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    private static final String DEMO = "../sample-data/models/demo-target.gguf";

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The cells of each line of a Markdown table on stdout. */
    private List<String[]> markdownRows() {
        return stdout().lines().map(l -> Arrays.stream(l.split("\\|")).skip(1).map(String::strip)
                .toArray(String[]::new)).toList();
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void markdownHasARowPerTestWithPositiveRates() {
        int status = run("bench", "--model=" + DEMO, "--prompt-tokens=16,32", "--gen-tokens=4", "--batch=1,3",
                "--prompt-gen=8+4", "--repetitions=2", "--threads=2", "--output=md");

        assertThat(status).as(stderr()).isZero();
        List<String[]> rows = markdownRows();
        assertThat(rows).hasSize(2 + 5);
        assertThat(rows.get(0)).containsExactly("model", "size", "params", "type", "backend", "threads", "test", "t/s");
        assertThat(rows.subList(2, rows.size()).stream().map(r -> r[6]))
                .containsExactly("pp16", "pp32", "tg4", "tg4x3", "pp8+tg4");
        for (String[] row : rows.subList(2, rows.size())) {
            assertThat(row[0]).isEqualTo("demo-target.gguf");
            assertThat(row[1]).endsWith(" MiB");
            assertThat(row[2]).endsWith(" M");
            // The demo models declare no file type: the type of their weight bytes.
            assertThat(row[3]).isEqualTo("Q8_0");
            assertThat(row[4]).startsWith("cpu/");
            assertThat(row[5]).isEqualTo("2");
            String[] meanSd = row[7].split(" ± ");
            assertThat(Double.parseDouble(meanSd[0])).isPositive();
            assertThat(Double.parseDouble(meanSd[1])).isNotNegative();
        }
    }

    @Test
    void csvGivesExactCountsAndSizes() throws Exception {
        int status = run("bench", "--model=" + DEMO, "--prompt-tokens=16", "--gen-tokens=3", "--batch=1,2",
                "--repetitions=2", "--threads=1", "--output=csv");

        assertThat(status).as(stderr()).isZero();
        List<String> lines = stdout().lines().toList();
        assertThat(lines).hasSize(1 + 3);
        List<String> header = List.of(lines.get(0).split(","));
        List<Map<String, String>> rows = lines.subList(1, lines.size()).stream().map(l -> {
            String[] cells = l.split(",");
            assertThat(cells).hasSameSizeAs(header.toArray());
            Map<String, String> row = new HashMap<>();
            for (int i = 0; i < cells.length; i++) {
                row.put(header.get(i), cells[i]);
            }
            return row;
        }).toList();
        assertThat(rows.stream().map(r -> r.get("test"))).containsExactly("pp16", "tg3", "tg3x2");
        assertThat(rows.stream().map(r -> r.get("n_seqs"))).containsExactly("1", "1", "2");
        assertThat(rows.stream().map(r -> r.get("n_prompt"))).containsExactly("16", "0", "0");
        assertThat(rows.stream().map(r -> r.get("n_gen"))).containsExactly("0", "3", "3");
        long params;
        try (GgufFile file = GgufFile.open(Path.of(DEMO))) {
            params = ModelConfig.fromMetadata(file.metadata(), file).parameterCount();
        }
        long fileBytes = Files.size(Path.of(DEMO));
        for (Map<String, String> r : rows) {
            assertThat(Long.parseLong(r.get("model_n_params"))).isEqualTo(params);
            // Weight bytes: the file less its header, metadata (the vocabulary) and padding.
            assertThat(Long.parseLong(r.get("model_size"))).isBetween(fileBytes / 2, fileBytes);
            assertThat(r.get("n_threads")).isEqualTo("1");
            assertThat(r.get("type_k")).isEqualTo("f16");
            assertThat(r.get("type_v")).isEqualTo("f16");
            assertThat(r.get("repetitions")).isEqualTo("2");
            assertThat(Double.parseDouble(r.get("avg_ts"))).isPositive();
        }
    }

    /** A KV cache of another type than llama.cpp's default shows in the Markdown table as llama-bench shows it. */
    @Test
    void aQ8CacheAddsItsTypeColumns() {
        int status = run("bench", "--model=" + DEMO, "--prompt-tokens=0", "--gen-tokens=2", "--depth=40",
                "--batch=1", "--repetitions=1", "--threads=2", "--kv-cache-type=q8_0");

        assertThat(status).as(stderr()).isZero();
        List<String[]> rows = markdownRows();
        assertThat(rows).hasSize(2 + 1);
        assertThat(rows.get(0)).containsExactly("model", "size", "params", "type", "backend", "threads", "type_k",
                "type_v", "test", "t/s");
        assertThat(rows.get(2)[6]).isEqualTo("q8_0");
        assertThat(rows.get(2)[7]).isEqualTo("q8_0");
        assertThat(rows.get(2)[8]).isEqualTo("tg2 @ d40");
    }

    /**
     * A test's caches are made once, sized for its longest sequence; every run empties them and
     * writes into the same storage (a run on fresh caches would time the first touch of their memory).
     */
    @Test
    void everyRunOfATestReusesItsCaches() {
        try (ModelFile file = ModelSources.open("synthetic:cpu-drafter?ctx=64"); Backend backend = new CpuBackend(2);
                Transformer model = Transformer.load(file, backend)) {
            for (BenchTest test : List.of(BenchTest.prefill(8, 0), BenchTest.decode(3, 2, 0))) {
                try (BenchCaches caches = BenchCaches.of(model, ElementType.F16, test)) {
                    List<KvCache> sequences = caches.sequences();
                    assertThat(sequences).hasSize(test.sequences());
                    DeviceBuffer keys = sequences.get(test.sequences() - 1).keys(1);
                    int capacity = sequences.get(0).capacity();
                    assertThat(capacity).isGreaterThanOrEqualTo(test.contextTokens());
                    for (int run = 0; run < 3; run++) {
                        BenchCommand.seconds(model, caches, test, new SplittableRandom(run));
                        for (KvCache sequence : sequences) {
                            assertThat(sequence.length()).as("%s run %d", test.name(), run)
                                    .isEqualTo(test.contextTokens());
                            assertThat(sequence.capacity()).isEqualTo(capacity);
                        }
                    }
                    assertThat(sequences.get(test.sequences() - 1).keys(1)).isSameAs(keys);
                }
            }
        }
    }

    /** Qwen3-0.6B's f16 cache is 112 KiB a token: eight sequences of 4096 + 128 tokens take 3.6 GiB. */
    @Test
    void runningOutOfHeapSaysWhatTheCachesTakeAndWhatToDo() throws Exception {
        ModelConfig qwen;
        try (var file = ModelSources.open("synthetic:qwen3-0.6b")) {
            qwen = ModelConfig.fromMetadata(file.metadata(), file);
        }
        BenchTest test = BenchTest.decode(128, 8, 4096);
        assertThat(BenchCommand.outOfHeap(test, qwen, ElementType.F16, 6L << 30)).isEqualTo("test tg128x8 @ d4096"
                + " ran out of Java heap (at most 6.0 GiB): its 8 KV cache(s) of 4224 tokens take at least 3.6 GiB as"
                + " f16; give the JVM more heap (java -Xmx...) or store keys and values as --kv-cache-type=q8_0");
        assertThat(BenchCommand.outOfHeap(test, qwen, ElementType.Q8_0, 6L << 30))
                .endsWith("take at least 1.9 GiB as q8_0; give the JVM more heap (java -Xmx...)");
    }

    @Test
    void jsonCarriesEveryRunAndTheRecipeOfASyntheticModel() throws Exception {
        int status = run("bench", "--model=synthetic:cpu-drafter?type=Q4_K_M", "--prompt-tokens=32", "--gen-tokens=2",
                "--batch=1", "--repetitions=3", "--threads=2", "--warmup=false", "--output=json", "--backend=cpu");

        assertThat(status).as(stderr()).isZero();
        JsonNode rows = new ObjectMapper().readTree(stdout());
        assertThat(rows.size()).isEqualTo(2);
        for (JsonNode row : rows) {
            assertThat(row.get("model").asText()).isEqualTo("synthetic:cpu-drafter?type=Q4_K_M");
            assertThat(row.get("model_type").asText()).isEqualTo("Q4_K_M");
            JsonNode samples = row.get("samples_ts");
            assertThat(samples.size()).isEqualTo(3);
            double sum = 0;
            for (JsonNode s : samples) {
                assertThat(s.asDouble()).isPositive();
                sum += s.asDouble();
            }
            assertThat(row.get("avg_ts").asDouble()).isCloseTo(sum / 3, within(1e-9 * sum));
        }
        assertThat(rows.get(0).get("test").asText()).isEqualTo("pp32");
        assertThat(rows.get(1).get("test").asText()).isEqualTo("tg2");
    }

    @Test
    void badArgumentsNameTheOptionAndTheProblem() {
        assertThat(run("bench", "--output=xml")).isEqualTo(2);
        assertThat(stderr()).contains("--output=xml is not a table format; use md, csv or json");
        err.reset();
        assertThat(run("bench", "--repetitions=0")).isEqualTo(2);
        assertThat(stderr()).contains("--repetitions must be at least 1, got 0");
        err.reset();
        assertThat(run("bench", "--batch=1,0")).isEqualTo(2);
        assertThat(stderr()).contains("--batch=1,0: give counts of at least 1, separated by commas");
        err.reset();
        assertThat(run("bench", "--prompt-tokens=512,x")).isEqualTo(2);
        assertThat(stderr()).contains("--prompt-tokens=512,x: give counts of at least 0");
        err.reset();
        assertThat(run("bench", "--depth=-1")).isEqualTo(2);
        assertThat(stderr()).contains("--depth=-1: give counts of at least 0");
        err.reset();
        assertThat(run("bench", "--prompt-gen=512")).isEqualTo(2);
        assertThat(stderr()).contains("--prompt-gen=512: give pairs of prompt and decode tokens");
        err.reset();
        assertThat(run("bench", "--prompt-tokens=0", "--gen-tokens=0")).isEqualTo(2);
        assertThat(stderr()).contains("no tests to run");
        err.reset();
        assertThat(run("bench", "--model=missing.gguf")).isEqualTo(2);
        assertThat(stderr()).contains("--model=missing.gguf: no such file");
    }

    @Test
    void aTestLongerThanTheContextWindowFails() {
        assertThat(run("bench", "--model=synthetic:cpu-drafter?ctx=64", "--prompt-tokens=128", "--gen-tokens=0"))
                .isEqualTo(1);
        assertThat(stderr()).contains("test pp128 needs 128 tokens of context; the model's window is 64 tokens");
    }

    @Test
    void everyTestRunsAtEveryDepthAndTheDepthCountsAgainstTheWindow() {
        int status = run("bench", "--model=synthetic:cpu-drafter?ctx=64", "--prompt-tokens=8", "--gen-tokens=3",
                "--batch=1,2", "--prompt-gen=4+2", "--depth=0,40", "--repetitions=1", "--threads=2", "--output=csv");

        assertThat(status).as(stderr()).isZero();
        List<String[]> rows = stdout().lines().skip(1).map(l -> l.split(",")).toList();
        assertThat(rows.stream().map(r -> r[6])).containsExactly("pp8", "pp8 @ d40", "tg3", "tg3 @ d40", "tg3x2",
                "tg3x2 @ d40", "pp4+tg2", "pp4+tg2 @ d40");
        assertThat(rows.stream().map(r -> r[9])).containsExactly("0", "40", "0", "40", "0", "40", "0", "40");

        out.reset();
        assertThat(run("bench", "--model=synthetic:cpu-drafter?ctx=64", "--prompt-tokens=0", "--gen-tokens=8",
                "--batch=2", "--depth=57")).isEqualTo(1);
        assertThat(stderr()).contains("test tg8x2 @ d57 needs 65 tokens of context; the model's window is 64 tokens");
    }
}
