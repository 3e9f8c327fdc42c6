package dev.pflash.jobs;

import dev.pflash.runtime.cache.PrefixCacheStats;
import dev.pflash.runtime.engine.Classification;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineOutcome;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.LocalEngine;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import com.sun.management.OperatingSystemMXBean;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * {@code pflash.jar bench-prefix}: what shared-prefix KV reuse saves on a workload of documents
 * behind one instruction prefix. The same prompts run with the prefix cache off and on, one prompt
 * at a time and in batches (which compute their prefix once), each generating one token; then a
 * classification of some documents against several labels, with the prompt prefilled once per
 * label and once for all labels. Each case reports the prompt tokens the target computed, the wall
 * time and the process's CPU time, each against the first case of its group measured in the same
 * run.
 */
public final class PrefixBenchCommand {
    private static final String INSTRUCTIONS = "Read the document below. Then say which topic it covers.\n\n";
    /** Instructions of the warm-up prompts: they differ from the first token on, so the cache stays cold. */
    private static final String WARM_UP_INSTRUCTIONS = "Warm-up run: ignore this document.\n\n";
    private static final String QUESTION = "\n\nWhich topic does the document cover? Answer with the topic only.";
    private static final List<String> TOPICS = List.of("finance", "nature", "science", "safety", "travel", "sports",
            "health", "music", "law", "food", "history", "weather", "housing", "farming", "energy", "schools");
    private static final int BYTE_TOKENS = 256;
    private static final GenerationSettings ONE_TOKEN = GenerationSettings.greedy(1);
    private static final OperatingSystemMXBean PROCESS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private PrefixBenchCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: bench-prefix [--model=<gguf|synthetic:preset>] [--docs=N] [--prefix-tokens=N]"
                    + " [--min-body-tokens=N] [--max-body-tokens=N] [--option=value ...]");
            out.println("Runs the workload with the prefix cache off and on (--prefix-cache-bytes), without PFlash;"
                    + " --drafter and --prefill-compression are not used.");
            CommandOptions.printHelp(out, PrefixBenchOptions.class);
            return 0;
        }
        PrefixBenchOptions options;
        EngineConfig off;
        EngineConfig on;
        try {
            options = CommandOptions.parse(args, PrefixBenchOptions.class);
            check(options);
            options.setDrafter("none");
            options.setPrefillCompression("off");
            EngineConfig base = EngineConfigs.from(options);
            on = new EngineConfig(base.model(), null, base.backend(), base.threads(), null, CompressionSettings.off(),
                    base.prefixCacheBytes(), base.kvCacheType());
            off = new EngineConfig(base.model(), null, base.backend(), base.threads(), null,
                    CompressionSettings.off(), 0, base.kvCacheType());
        } catch (IllegalArgumentException e) {
            err.println("bench-prefix: " + e.getMessage());
            err.println("Run 'bench-prefix --help' for the options.");
            return 2;
        }
        try (LocalEngine cacheOff = LocalEngine.open(off); LocalEngine cacheOn = LocalEngine.open(on)) {
            run(cacheOff, cacheOn, options, out);
            return 0;
        } catch (RuntimeException e) {
            err.println("bench-prefix: " + e.getMessage());
            return 1;
        }
    }

    private static void check(PrefixBenchOptions o) {
        if (o.getDocs() < 1 || o.getPrefixTokens() < 1 || o.getMinBodyTokens() < 1 || o.getBatchSize() < 1) {
            throw new IllegalArgumentException("--docs, --prefix-tokens, --min-body-tokens and --batch-size must be"
                    + " at least 1");
        }
        if (o.getMaxBodyTokens() < o.getMinBodyTokens()) {
            throw new IllegalArgumentException("--max-body-tokens=" + o.getMaxBodyTokens()
                    + " is below --min-body-tokens=" + o.getMinBodyTokens());
        }
        if (o.getLabelCount() < 2 || o.getLabelCount() > TOPICS.size()) {
            throw new IllegalArgumentException("--label-count must be between 2 and " + TOPICS.size() + ", got "
                    + o.getLabelCount());
        }
        if (o.getClassifyDocs() < 0 || o.getClassifyDocs() > o.getDocs()) {
            throw new IllegalArgumentException("--classify-docs must be between 0 and --docs=" + o.getDocs() + ", got "
                    + o.getClassifyDocs());
        }
        if (o.getPrefixCacheBytes() <= 0) {
            throw new IllegalArgumentException("bench-prefix compares the prefix cache off with the cache on:"
                    + " --prefix-cache-bytes must be more than 0");
        }
    }

    private static void run(LocalEngine off, LocalEngine on, PrefixBenchOptions o, PrintStream out) {
        List<Prompt> prompts = workload(off, INSTRUCTIONS, o.getDocs(), o.getPrefixTokens(), o.getMinBodyTokens(),
                o.getMaxBodyTokens(), o.getSeed());
        List<String> labels = TOPICS.subList(0, o.getLabelCount());
        // JIT warm-up on another prefix, so that the measured prefix is still cold in the cache.
        List<Prompt> warmUp = workload(off, WARM_UP_INSTRUCTIONS, 2, o.getPrefixTokens(), o.getMinBodyTokens(),
                o.getMinBodyTokens(), o.getSeed() + 1);
        for (LocalEngine engine : List.of(off, on)) {
            engine.generateBatch(warmUp, ONE_TOKEN);
            engine.classify(warmUp.get(0), labels);
        }

        long tokensIn = prompts.stream().mapToLong(Prompt::length).sum();
        out.printf(Locale.ROOT, "bench-prefix: %s on %s; %d documents of %d-%d body tokens behind a %d-token prefix"
                + " (%.1f%% of the %,d prompt tokens); one token generated per prompt%n", off.info().targetModel(),
                off.info().backend(), prompts.size(), o.getMinBodyTokens(), o.getMaxBodyTokens(),
                prompts.get(0).prefixTokens().length, 100.0 * prompts.size() * prompts.get(0).prefixTokens().length
                        / tokensIn, tokensIn);
        out.println();
        header(out);
        Case baseline = measure("cache off, one prompt at a time", () -> oneAtATime(off, prompts));
        print(out, baseline, baseline, tokensIn);
        print(out, measure("cache on, one prompt at a time", () -> oneAtATime(on, prompts)), baseline, tokensIn);
        int batch = o.getBatchSize();
        print(out, measure("cache off, batches of " + batch, () -> batched(off, prompts, batch)), baseline, tokensIn);
        print(out, measure("cache on, batches of " + batch, () -> batched(on, prompts, batch)), baseline, tokensIn);
        PrefixCacheStats stats = on.prefixCacheStats();
        out.printf(Locale.ROOT, "prefix cache (on): %d lookups, %.1f%% of looked-up prefix tokens hit, %d blocks"
                + " (%,d bytes of %,d)%n", stats.lookups(), 100 * stats.hitRate(), stats.blocks(), stats.bytes(),
                stats.budgetBytes());

        if (o.getClassifyDocs() > 0) {
            List<Prompt> docs = prompts.subList(0, o.getClassifyDocs());
            long classifyIn = docs.stream().mapToLong(Prompt::length).sum();
            out.println();
            out.printf(Locale.ROOT, "classification of %d documents against %d labels, prefix cache off%n",
                    docs.size(), labels.size());
            header(out);
            Case perLabel = measure("prompt prefilled once per label", () -> classifyPerLabel(off, docs, labels));
            print(out, perLabel, perLabel, classifyIn);
            print(out, measure("prompt prefilled once for all labels", () -> classifyOnce(off, docs, labels)),
                    perLabel, classifyIn);
        }
    }

    /**
     * {@code docs} prompts of one shared prefix of exactly {@code prefixTokens} tokens (the chat
     * template's head and the instructions, filled up with random byte tokens) and bodies of random
     * byte tokens, their lengths spread evenly from {@code minBody} to {@code maxBody}. The cost of
     * a forward pass does not depend on which tokens it reads.
     */
    static List<Prompt> workload(LocalEngine engine, String instructions, int docs, int prefixTokens, int minBody,
            int maxBody, long seed) {
        Prompt frame = engine.tokenize("frame", new PromptText(instructions, "", QUESTION));
        int[] head = frame.prefixTokens();
        if (head.length > prefixTokens) {
            throw new IllegalArgumentException("--prefix-tokens=" + prefixTokens + " is shorter than the "
                    + head.length + " tokens of the chat framing and instructions");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] prefix = Arrays.copyOf(head, prefixTokens);
        for (int i = head.length; i < prefixTokens; i++) {
            prefix[i] = rnd.nextInt(BYTE_TOKENS);
        }
        List<Prompt> prompts = new ArrayList<>(docs);
        for (int d = 0; d < docs; d++) {
            int length = docs == 1 ? minBody : minBody + (int) ((long) (maxBody - minBody) * d / (docs - 1));
            int[] body = new int[length];
            Arrays.setAll(body, i -> rnd.nextInt(BYTE_TOKENS));
            prompts.add(new Prompt("doc-" + d, prefix, body, frame.suffixTokens()));
        }
        return prompts;
    }

    private static long oneAtATime(LocalEngine engine, List<Prompt> prompts) {
        long prefilled = 0;
        for (Prompt p : prompts) {
            prefilled += engine.generate(p, ONE_TOKEN).tokens().targetPrefilled();
        }
        return prefilled;
    }

    private static long batched(LocalEngine engine, List<Prompt> prompts, int batchSize) {
        long prefilled = 0;
        for (int from = 0; from < prompts.size(); from += batchSize) {
            List<Prompt> batch = prompts.subList(from, Math.min(prompts.size(), from + batchSize));
            for (EngineOutcome outcome : engine.generateBatch(batch, ONE_TOKEN)) {
                if (!outcome.isOk()) {
                    throw outcome.error();
                }
                EngineResult r = outcome.result();
                prefilled += r.tokens().targetPrefilled();
            }
        }
        return prefilled;
    }

    private static long classifyPerLabel(LocalEngine engine, List<Prompt> prompts, List<String> labels) {
        long prefilled = 0;
        for (Prompt p : prompts) {
            for (String label : labels) {
                prefilled += engine.classify(p, List.of(label)).tokens().targetPrefilled();
            }
        }
        return prefilled;
    }

    private static long classifyOnce(LocalEngine engine, List<Prompt> prompts, List<String> labels) {
        long prefilled = 0;
        for (Prompt p : prompts) {
            Classification c = engine.classify(p, labels);
            prefilled += c.tokens().targetPrefilled();
        }
        return prefilled;
    }

    /**
     * One measured case: prompt tokens the target prefilled, the wall time, and the CPU time of
     * this process (all its threads), which other processes on a shared machine do not inflate.
     */
    private record Case(String name, long prefilled, double wallSeconds, double cpuSeconds) {
    }

    private static Case measure(String name, Supplier<Long> work) {
        long start = System.nanoTime();
        long cpuStart = PROCESS.getProcessCpuTime();
        long prefilled = work.get();
        return new Case(name, prefilled, (System.nanoTime() - start) / 1e9,
                (PROCESS.getProcessCpuTime() - cpuStart) / 1e9);
    }

    private static void header(PrintStream out) {
        out.println(" case                                   prompt_tokens  prefilled  prefilled_share  wall_s  speedup"
                + "   cpu_s  cpu_speedup");
    }

    private static void print(PrintStream out, Case c, Case baseline, long promptTokens) {
        out.printf(Locale.ROOT, " %-38s %13d  %9d  %14.1f%%  %6.1f  %6.2fx  %6.1f  %10.2fx%n", c.name(), promptTokens,
                c.prefilled(), 100.0 * c.prefilled() / promptTokens, c.wallSeconds(),
                baseline.wallSeconds() / c.wallSeconds(), c.cpuSeconds(), baseline.cpuSeconds() / c.cpuSeconds());
        out.flush();
    }
}
