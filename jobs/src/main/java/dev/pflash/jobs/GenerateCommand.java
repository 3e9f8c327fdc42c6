package dev.pflash.jobs;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.Engines;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code pflash.jar generate}: one prompt through one model. The text goes to stdout; prompt
 * tokens, prefill and decode speeds go to stderr, so the command doubles as a throughput
 * benchmark ({@code --prompt-tokens=N} on a {@code synthetic:} model).
 */
public final class GenerateCommand {
    private static final List<String> FILLER_WORDS = List.of("the", "harbor", "committee", "counted", "nesting",
            "herons", "along", "tide", "pools", "while", "volunteers", "logged", "moss", "samples", "and", "budget",
            "lines", "for", "the", "bakery", "report", "in", "quiet", "morning", "light", "before", "rain");

    private GenerateCommand() {
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: generate [--model=<gguf|synthetic:preset>] [--prompt=<text> | --prompt-tokens=N] "
                    + "[--option=value ...]");
            CommandOptions.printHelp(out, GenerateOptions.class);
            return 0;
        }
        GenerateOptions options;
        GenerationSettings settings;
        try {
            options = CommandOptions.parse(args, GenerateOptions.class);
            settings = new GenerationSettings(options.getMaxNewTokens(), options.getTemperature(), options.getTopK(),
                    options.getTopP(), options.getSeed());
        } catch (IllegalArgumentException e) {
            err.println("generate: " + e.getMessage());
            err.println("Run 'generate --help' for the options.");
            return 2;
        }
        EngineConfig config;
        try {
            config = EngineConfigs.from(options);
        } catch (IllegalArgumentException e) {
            err.println("generate: " + e.getMessage());
            return 2;
        }
        try (Engine engine = Engines.open(config)) {
            if (engine.info().demoModels()) {
                err.println("note: " + options.getModel() + " has random weights, so its text is noise; "
                        + "real text needs a real GGUF (--model=/path/to/Qwen3-*.gguf)");
            }
            Prompt prompt = prompt(engine, options);
            EngineResult r = engine.generate(prompt, settings);
            out.println(r.text());
            out.flush();
            report(err, r);
            return 0;
        } catch (RuntimeException e) {
            err.println("generate: " + e.getMessage());
            return 1;
        }
    }

    private static Prompt prompt(Engine engine, GenerateOptions options) {
        if (options.getPromptTokens() > 0) {
            return new Prompt("generate", fillerTokens(engine, options.getPromptTokens(), options.getSeed()), new int[0],
                    new int[0]);
        }
        if (options.getChat()) {
            return engine.tokenize("generate", new PromptText("", options.getPrompt(), ""));
        }
        return new Prompt("generate", engine.encode(options.getPrompt()), new int[0], new int[0]);
    }

    /** Exactly {@code n} tokens of seeded word salad: a prompt of a chosen length for benchmarks. */
    static int[] fillerTokens(Engine engine, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder();
        int[] tokens = new int[0];
        while (tokens.length < n) {
            for (int i = 0; i < n; i++) {
                text.append(FILLER_WORDS.get(rnd.nextInt(FILLER_WORDS.size()))).append(i % 17 == 16 ? ".\n" : " ");
            }
            tokens = engine.encode(text.toString());
        }
        return Arrays.copyOf(tokens, n);
    }

    private static void report(PrintStream err, EngineResult r) {
        double prefillMs = r.timings().targetPrefillMs();
        int decoded = Math.max(0, r.tokens().generated() - 1);
        err.printf(Locale.ROOT, "prompt tokens: %d | prefill: %.1f ms, %.1f tokens/s | time to first token: %.1f ms%n",
                r.tokens().prompt(), prefillMs, r.tokens().prompt() * 1000.0 / Math.max(prefillMs, 1e-9),
                r.timings().ttftMs());
        err.printf(Locale.ROOT, "generated tokens: %d (%s) | decode: %.1f ms, %.2f tokens/s%n", r.tokens().generated(),
                r.finishReason().name().toLowerCase(Locale.ROOT), r.timings().decodeMs(),
                decoded == 0 ? 0.0 : decoded * 1000.0 / Math.max(r.timings().decodeMs(), 1e-9));
    }
}
