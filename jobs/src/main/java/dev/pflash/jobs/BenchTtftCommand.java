package dev.pflash.jobs;

import dev.pflash.runtime.backend.Backend;
import dev.pflash.runtime.backend.Backends;
import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.CompressionSettings.Mode;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.Engines;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.pflash.DraftStats;
import dev.pflash.runtime.pflash.MemoryLedger;
import dev.pflash.runtime.pflash.SpeculativePrefill;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code pflash.jar bench-ttft}: time to first token of one cold prompt per length, dense (no
 * compression) against PFlash (compression always), on the same target; how PFlash's time splits
 * into drafter forward, scoring and selection, and target prefill; and the drafter's block-sparse
 * attention against the same attention over every block. One cold prompt per length (no prefix
 * cache), one token generated.
 */
public final class BenchTtftCommand {
    private static final String QUESTION = "\n\nWhat does the document say about the harbor? Answer briefly.";
    private static final int BYTE_TOKENS = 256;

    private BenchTtftCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: bench-ttft [--model=...] [--drafter=...] [--lengths=4096,8192,16384,32768]"
                    + " [--keep-ratio=R] [--option=value ...]");
            out.println("Runs each length with PFlash (compression always) and dense (off), without a prefix cache;"
                    + " --prefill-compression and --prefix-cache-bytes are not used.");
            CommandOptions.printHelp(out, BenchTtftOptions.class);
            return 0;
        }
        BenchTtftOptions options;
        EngineConfig dense;
        EngineConfig pflash;
        int[] lengths;
        try {
            options = CommandOptions.parse(args, BenchTtftOptions.class);
            lengths = NiahCommand.parseLengths("--lengths", options.getLengths());
            options.setPrefillCompression("always");
            EngineConfig base = EngineConfigs.from(options);
            pflash = new EngineConfig(base.model(), base.drafter(), base.backend(), base.threads(), null,
                    base.compression(), 0, base.kvCacheType());
            dense = new EngineConfig(base.model(), null, base.backend(), base.threads(), null,
                    base.compression().withMode(Mode.OFF), 0, base.kvCacheType());
        } catch (IllegalArgumentException e) {
            err.println("bench-ttft: " + e.getMessage());
            err.println("Run 'bench-ttft --help' for the options.");
            return 2;
        }
        try (Engine denseEngine = Engines.open(dense); Engine pflashEngine = Engines.open(pflash)) {
            run(denseEngine, pflashEngine, pflash, lengths, options, out);
            return 0;
        } catch (RuntimeException e) {
            err.println("bench-ttft: " + e.getMessage());
            return 1;
        }
    }

    private static void run(Engine dense, Engine pflash, EngineConfig config, int[] lengths, BenchTtftOptions options,
            PrintStream out) {
        CompressionSettings s = config.compression();
        out.printf(Locale.ROOT, "target %s, drafter %s, backend %s, keep ratio %.3f, alpha %.2f, forced chunks %d head"
                + " + %d tail%n", config.model(), config.drafter(), dense.info().backend(), s.keepRatio(), s.alpha(),
                s.headChunks(), s.tailChunks());
        if (options.getTtft()) {
            timeToFirstToken(dense, pflash, lengths, options, out);
        }
        if (options.getCompareAttention()) {
            compareAttention(dense, config, lengths, options, out);
        }
    }

    /** Dense against PFlash at each length, after a warm-up run of both. */
    private static void timeToFirstToken(Engine dense, Engine pflash, int[] lengths, BenchTtftOptions options,
            PrintStream out) {
        GenerationSettings one = GenerationSettings.greedy(1);
        if (options.getWarmupTokens() > 0) {
            Prompt warm = prompt(dense, Math.max(options.getWarmupTokens(), 256), options.getSeed());
            dense.generate(warm, one);
            pflash.generate(warm, one);
        }
        out.println();
        out.println(" tokens   body   kept   keep  dense_ttft_ms  pflash_ttft_ms  speedup  draft_ms  select_ms"
                + "  target_prefill_ms");
        for (int length : lengths) {
            Prompt p = prompt(dense, length, options.getSeed());
            EngineResult d = dense.generate(p, one);
            EngineResult f = pflash.generate(p, one);
            out.printf(Locale.ROOT, " %6d  %5d  %5d  %.3f  %13.0f  %14.0f  %6.1fx  %8.0f  %9.0f  %17.0f%n",
                    p.length(), p.bodyTokens().length, f.tokens().keptBody(),
                    (double) f.tokens().keptBody() / p.bodyTokens().length, d.timings().ttftMs(), f.timings().ttftMs(),
                    d.timings().ttftMs() / f.timings().ttftMs(), f.timings().draftMs(), f.timings().selectMs(),
                    f.timings().targetPrefillMs());
            out.flush();
        }
    }

    /** The drafter alone at each length: block-sparse attention at the configured alpha, then every block. */
    private static void compareAttention(Engine tokenizing, EngineConfig config, int[] lengths,
            BenchTtftOptions options, PrintStream out) {
        out.println();
        out.println("Drafter attention, block-sparse (alpha " + config.compression().alpha()
                + ") against every block:");
        out.println(" tokens  sparse_ms  density  dense_ms  speedup  drafter_forward_sparse_ms"
                + "  drafter_forward_dense_ms");
        try (Backend backend = Backends.create(config.backend(), config.threads());
                ModelFile targetFile = ModelSources.open(config.model());
                ModelFile drafterFile = ModelSources.open(config.drafter());
                SpeculativePrefill drafter = SpeculativePrefill.open(drafterFile, backend,
                        Tokenizer.fromMetadata(targetFile.metadata()))) {
            if (drafter.throughText()) {
                out.println("  (skipped: the drafter's vocabulary differs from the target's)");
                return;
            }
            CompressionSettings sparse = config.compression();
            CompressionSettings all = sparse.withAlpha(0);
            if (options.getWarmupTokens() > 0) {
                int[] warm = prompt(tokenizing, Math.max(options.getWarmupTokens(), 256), options.getSeed()).allTokens();
                drafter.forward().score(warm, sparse, new MemoryLedger());
                drafter.forward().score(warm, all, new MemoryLedger());
            }
            for (int length : lengths) {
                int[] tokens = prompt(tokenizing, length, options.getSeed()).allTokens();
                DraftStats s = drafter.forward().score(tokens, sparse, new MemoryLedger()).stats();
                DraftStats d = drafter.forward().score(tokens, all, new MemoryLedger()).stats();
                out.printf(Locale.ROOT, " %6d  %9.0f  %7.3f  %8.0f  %6.1fx  %25.0f  %24.0f%n", length, s.attentionMs(),
                        s.blockDensity(), d.attentionMs(), d.attentionMs() / s.attentionMs(), s.forwardMs(),
                        d.forwardMs());
                out.flush();
            }
        }
    }

    /**
     * A prompt of exactly {@code length} tokens: the instruction prefix, a document of random byte
     * tokens (ids 0..255, the byte tokens of byte-level vocabularies), the question suffix. Random
     * bytes repeat no 4-gram of the question, so lexical anchors keep nothing and the kept share is
     * the keep ratio's plus the forced chunks, whatever the vocabulary; the cost of a forward pass
     * does not depend on which tokens it reads.
     */
    static Prompt prompt(Engine engine, int length, long seed) {
        Prompt frame = engine.tokenize("bench", new PromptText(NiahPrompts.INSTRUCTIONS, "", QUESTION));
        int body = length - frame.prefixTokens().length - frame.suffixTokens().length;
        if (body < 1) {
            throw new IllegalArgumentException("a prompt of " + length + " tokens has no room for a document beside its"
                    + " " + (length - body) + " tokens of instructions and question");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] document = new int[body];
        for (int i = 0; i < body; i++) {
            document[i] = rnd.nextInt(BYTE_TOKENS);
        }
        return new Prompt("bench-" + length, frame.prefixTokens(), document, frame.suffixTokens());
    }
}
