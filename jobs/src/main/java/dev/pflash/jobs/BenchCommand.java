package dev.pflash.jobs;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.Backends;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.backend.cpu.VectorSupport;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.model.KvCache;
import dev.pflash.runtime.model.ModelConfig;
import dev.pflash.runtime.model.Transformer;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.sampling.Sampler;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code pflash.jar bench}: prefill and decode throughput of one model, in the style of llama.cpp's
 * {@code llama-bench}, so that the two runtimes can be compared test for test. Each test runs on
 * fresh KV caches with random prompt tokens (the cost of a forward pass does not depend on which
 * tokens it reads) and greedy decoding, straight on the transformer: no chat template, no prefix
 * cache, no stop tokens. The tests and how they are timed: {@link BenchTest}.
 */
public final class BenchCommand {
    private BenchCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: bench [--model=<gguf|synthetic:preset>] [--prompt-tokens=512,2048] [--gen-tokens=128]"
                    + " [--batch=1,8] [--prompt-gen=512+128] [--depth=0,2048] [--threads=N] [--repetitions=R]"
                    + " [--output=md|csv|json] [--backend=cpu|cuda|auto] [--kv-cache-type=f16|f32|q8_0]");
            out.println("Runs the target model alone: --drafter, PFlash and the prefix cache are not used.");
            CommandOptions.printHelp(out, BenchOptions.class);
            return 0;
        }
        BenchOptions options;
        EngineConfig config;
        List<BenchTest> tests;
        BenchTable.Format format;
        try {
            options = CommandOptions.parse(args, BenchOptions.class);
            tests = tests(options);
            format = BenchTable.Format.parse(options.getOutput());
            if (options.getRepetitions() < 1) {
                throw new IllegalArgumentException("--repetitions must be at least 1, got " + options.getRepetitions());
            }
            options.setDrafter("none");
            options.setPrefillCompression("off");
            config = EngineConfigs.from(options);
        } catch (IllegalArgumentException e) {
            err.println("bench: " + e.getMessage());
            err.println("Run 'bench --help' for the options.");
            return 2;
        }
        try (Backend backend = Backends.create(config.backend(), config.threads());
                ModelFile file = ModelSources.open(config.model());
                Transformer model = Transformer.load(file, backend)) {
            checkContext(tests, model);
            BenchTable table = new BenchTable(format, out, BenchModel.of(config.model(), file), backendName(backend),
                    backend.threads(), config.kvCacheType());
            table.begin();
            SplittableRandom rnd = new SplittableRandom(options.getSeed());
            for (BenchTest test : tests) {
                double[] rates = new double[options.getRepetitions()];
                try (BenchCaches caches = BenchCaches.of(model, config.kvCacheType(), test)) {
                    if (options.getWarmup()) {
                        seconds(model, caches, test, rnd);
                    }
                    for (int i = 0; i < rates.length; i++) {
                        rates[i] = test.timedTokens() / seconds(model, caches, test, rnd);
                    }
                } catch (OutOfMemoryError e) {
                    throw new IllegalStateException(outOfHeap(test, model.config(), config.kvCacheType(),
                            Runtime.getRuntime().maxMemory()), e);
                }
                table.add(new BenchResult(test, rates));
            }
            table.end();
            return 0;
        } catch (RuntimeException e) {
            err.println("bench: " + e.getMessage());
            return 1;
        }
    }

    /**
     * What to do when a test's KV caches outgrow the heap: the JVM's default is a quarter of the
     * machine's memory, which eight f16 caches of a few thousand tokens of a 0.6B model exceed.
     */
    static String outOfHeap(BenchTest test, ModelConfig model, ElementType kvType, long maxHeapBytes) {
        long bytes = test.sequences() * (long) test.contextTokens() * model.kvBytesPerToken(kvType);
        return String.format(Locale.ROOT, "test %s ran out of Java heap (at most %.1f GiB): its %d KV cache(s) of %d"
                + " tokens take at least %.1f GiB as %s; give the JVM more heap (java -Xmx...)%s", test.name(),
                maxHeapBytes / (double) (1L << 30), test.sequences(), test.contextTokens(),
                bytes / (double) (1L << 30), kvType.label(),
                kvType == ElementType.Q8_0 ? "" : " or store keys and values as --kv-cache-type=q8_0");
    }

    /** The tests the options ask for, in llama-bench's order: prefill, decode, combined, each at every depth. */
    static List<BenchTest> tests(BenchOptions o) {
        List<BenchTest> tests = new ArrayList<>();
        int[] batches = counts("--batch", o.getBatch(), 1);
        int[] depths = counts("--depth", o.getDepth(), 0);
        int[] prompts = counts("--prompt-tokens", o.getPromptTokens(), 0);
        int[] gens = counts("--gen-tokens", o.getGenTokens(), 0);
        List<int[]> pairs = promptGenPairs(o.getPromptGen());
        for (int p : Arrays.stream(prompts).filter(p -> p > 0).toArray()) {
            for (int d : depths) {
                tests.add(BenchTest.prefill(p, d));
            }
        }
        for (int g : Arrays.stream(gens).filter(g -> g > 0).toArray()) {
            for (int s : batches) {
                for (int d : depths) {
                    tests.add(BenchTest.decode(g, s, d));
                }
            }
        }
        for (int[] pg : pairs) {
            for (int d : depths) {
                tests.add(BenchTest.combined(pg[0], pg[1], d));
            }
        }
        if (tests.isEmpty()) {
            throw new IllegalArgumentException("no tests to run: give --prompt-tokens, --gen-tokens or --prompt-gen");
        }
        return tests;
    }

    /** The pairs P+G of {@code --prompt-gen}, at least 1 each. */
    private static List<int[]> promptGenPairs(String value) {
        List<int[]> pairs = new ArrayList<>();
        String list = value.strip();
        for (String pair : list.isEmpty() ? new String[0] : list.split(",")) {
            String[] pg = pair.strip().split("\\+", -1);
            try {
                int p = Integer.parseInt(pg[0].strip());
                int g = pg.length == 2 ? Integer.parseInt(pg[1].strip()) : 0;
                if (p < 1 || g < 1) {
                    throw new NumberFormatException();
                }
                pairs.add(new int[] {p, g});
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--prompt-gen=" + value + ": give pairs of prompt and"
                        + " decode tokens (at least 1 each) such as 512+128, separated by commas");
            }
        }
        return pairs;
    }

    /** Comma-separated counts of at least {@code min}. */
    private static int[] counts(String option, String value, int min) {
        try {
            int[] counts = Arrays.stream(value.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            if (counts.length == 0 || Arrays.stream(counts).anyMatch(n -> n < min)) {
                throw new NumberFormatException();
            }
            return counts;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + "=" + value + ": give counts of at least " + min
                    + ", separated by commas");
        }
    }

    private static void checkContext(List<BenchTest> tests, Transformer model) {
        int context = model.config().contextLength();
        for (BenchTest t : tests) {
            if (t.contextTokens() > context) {
                throw new IllegalArgumentException("test " + t.name() + " needs " + t.contextTokens()
                        + " tokens of context; the model's window is " + context + " tokens");
            }
        }
    }

    /** The backend's name; on the CPU with the kernel family, since vector and scalar kernels differ manyfold. */
    private static String backendName(Backend backend) {
        if (!backend.name().equals("cpu")) {
            return backend.name();
        }
        return "cpu/" + (VectorSupport.useVectorKernels() ? "vector" : "scalar");
    }

    /**
     * Runs {@code test} once on its caches, emptied first; returns the seconds of its timed part.
     * Every sequence starts from the same untimed context, prefilled once and copied: a step costs
     * the same whichever tokens the caches hold.
     */
    static double seconds(Transformer model, BenchCaches caches, BenchTest test, SplittableRandom rnd) {
        List<KvCache> sequences = caches.sequences();
        KvCache first = caches.emptyFirst();
        int[] next = new int[sequences.size()];
        if (test.untimedTokens() > 0) {
            int[] context = tokens(model, test.untimedTokens(), rnd);
            Arrays.fill(next, Sampler.argmax(model.prefill(first, context)));
        }
        for (int s = 1; s < next.length; s++) {
            sequences.get(s).copyFrom(first);
        }
        long start = System.nanoTime();
        if (test.promptTokens() > 0) {
            next[0] = Sampler.argmax(model.prefill(first, tokens(model, test.promptTokens(), rnd)));
        }
        decode(model, sequences, next, test.genTokens());
        return (System.nanoTime() - start) / 1e9;
    }

    /** {@code steps} greedy decode steps of every sequence together, one packed forward pass per step. */
    private static void decode(Transformer model, List<KvCache> caches, int[] next, int steps) {
        List<int[]> tokens = new ArrayList<>(caches.size());
        List<int[]> positions = new ArrayList<>(caches.size());
        List<float[]> logits = new ArrayList<>(caches.size());
        for (int s = 0; s < caches.size(); s++) {
            tokens.add(new int[1]);
            positions.add(new int[1]);
            logits.add(new float[model.config().vocabSize()]);
        }
        for (int step = 0; step < steps; step++) {
            for (int s = 0; s < caches.size(); s++) {
                tokens.get(s)[0] = next[s];
                positions.get(s)[0] = caches.get(s).length();
            }
            model.forwardPacked(caches, tokens, positions, logits);
            for (int s = 0; s < caches.size(); s++) {
                next[s] = Sampler.argmax(logits.get(s));
            }
        }
    }

    private static int[] tokens(Transformer model, int n, SplittableRandom rnd) {
        int[] tokens = new int[n];
        Arrays.setAll(tokens, i -> rnd.nextInt(model.config().vocabSize()));
        return tokens;
    }
}
