package dev.pflash.jobs;

import dev.pflash.runtime.engine.CompressionSettings;
import dev.pflash.runtime.engine.CompressionSettings.Mode;
import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.EngineConfig;
import dev.pflash.runtime.engine.EngineResult;
import dev.pflash.runtime.engine.Engines;
import dev.pflash.runtime.engine.GenerationSettings;
import dev.pflash.runtime.engine.KeySpan;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code pflash.jar niah}: needle-in-a-haystack cases at several prompt lengths, each run with
 * PFlash (compression always on) and, unless {@code --dense=false}, without compression. Prints,
 * per case and in total for each length and question kind: whether the needle's tokens survived
 * selection, whether the value appears in the output (dense and PFlash), the keep ratio, and TTFT
 * dense and PFlash. The variant question writes the key differently, so lexical anchors cannot find
 * the needle and only the drafter's attention can.
 */
public final class NiahCommand {
    private NiahCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: niah [--model=...] [--drafter=...] [--context=8192,32768] [--cases=N] [--keep-ratio=R]"
                    + " [--seed=S] [--option=value ...]");
            out.println("Runs each case with PFlash (compression always) and dense (off); --prefill-compression is"
                    + " not used.");
            CommandOptions.printHelp(out, NiahOptions.class);
            return 0;
        }
        NiahOptions options;
        EngineConfig pflash;
        EngineConfig dense;
        int[] contexts;
        try {
            options = CommandOptions.parse(args, NiahOptions.class);
            contexts = parseLengths("--context", options.getContext());
            if (options.getCases() < 1) {
                throw new IllegalArgumentException("--cases must be at least 1, got " + options.getCases());
            }
            if (options.getAnswerTokens() < 1) {
                throw new IllegalArgumentException("--answer-tokens must be at least 1, got "
                        + options.getAnswerTokens());
            }
            options.setPrefillCompression("always");
            EngineConfig base = EngineConfigs.from(options);
            CompressionSettings settings = base.compression().withMode(Mode.ALWAYS)
                    .withLexicalAnchors(options.getAnchors());
            pflash = new EngineConfig(base.model(), base.drafter(), base.backend(), base.threads(), base.systemPrompt(),
                    settings, 0, base.kvCacheType());
            dense = new EngineConfig(base.model(), null, base.backend(), base.threads(), base.systemPrompt(),
                    settings.withMode(Mode.OFF), 0, base.kvCacheType());
        } catch (IllegalArgumentException e) {
            err.println("niah: " + e.getMessage());
            err.println("Run 'niah --help' for the options.");
            return 2;
        }
        try (Engine compressed = Engines.open(pflash);
                Engine baseline = options.getDense() ? Engines.open(dense) : null) {
            if (compressed.info().demoModels()) {
                out.println("note: " + pflash.model() + " has random weights: its output is noise, so 'value retrieved'"
                        + " measures nothing here; 'needle kept' does (it depends only on the drafter's scores and the"
                        + " lexical anchors)");
            }
            out.printf(Locale.ROOT, "PFlash keep ratio %.3f, alpha %.2f, lexical anchors %s%n", pflash.compression()
                    .keepRatio(), pflash.compression().alpha(), options.getAnchors() ? "on" : "off");
            run(compressed, baseline, contexts, options, out);
            return 0;
        } catch (RuntimeException e) {
            err.println("niah: " + e.getMessage());
            return 1;
        }
    }

    static int[] parseLengths(String option, String value) {
        try {
            int[] lengths = Arrays.stream(value.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            if (lengths.length == 0 || Arrays.stream(lengths).anyMatch(n -> n < 64)) {
                throw new NumberFormatException();
            }
            return lengths;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + "=" + value + ": give token counts of at least 64, separated by"
                    + " commas, e.g. 8192,32768");
        }
    }

    private static void run(Engine pflash, Engine dense, int[] contexts, NiahOptions options, PrintStream out) {
        GenerationSettings greedy = GenerationSettings.greedy(options.getAnswerTokens());
        SplittableRandom rnd = new SplittableRandom(options.getSeed());
        List<Outcome> all = new ArrayList<>();
        out.println();
        out.println(" tokens  case  question  depth  body  kept  keep   needle  dense  pflash  ttft_dense_ms"
                + "  ttft_pflash_ms  speedup");
        for (int context : contexts) {
            for (int i = 0; i < options.getCases(); i++) {
                NiahPrompts.Case c = NiahPrompts.newCase(rnd);
                for (boolean variant : new boolean[] {false, true}) {
                    NiahPrompts.Built built = NiahPrompts.build(pflash, c, variant,
                            context - options.getAnswerTokens());
                    EngineResult compressed = pflash.generate(built.prompt(), greedy);
                    EngineResult baseline = dense == null ? null : dense.generate(built.prompt(), greedy);
                    Outcome o = new Outcome(context, variant, built, c.value(), compressed, baseline);
                    all.add(o);
                    out.println(o.line(i + 1));
                    out.flush();
                }
            }
        }
        out.println();
        out.println("Totals (cases: needle kept, value retrieved dense and PFlash; means: keep ratio, TTFT):");
        for (int context : contexts) {
            for (boolean variant : new boolean[] {false, true}) {
                List<Outcome> group = all.stream().filter(o -> o.context == context && o.variant == variant).toList();
                out.println(total(context, variant, group));
            }
        }
    }

    private static String total(int context, boolean variant, List<Outcome> group) {
        int n = group.size();
        long kept = group.stream().filter(Outcome::needleKept).count();
        long pflash = group.stream().filter(o -> o.retrieved(o.compressed)).count();
        boolean withDense = group.get(0).dense != null;
        long dense = withDense ? group.stream().filter(o -> o.retrieved(o.dense)).count() : 0;
        double keep = group.stream().mapToDouble(Outcome::keepRatio).average().orElse(0);
        double ttftPflash = group.stream().mapToDouble(o -> o.compressed.timings().ttftMs()).average().orElse(0);
        double ttftDense = withDense ? group.stream().mapToDouble(o -> o.dense.timings().ttftMs()).average().orElse(0)
                : Double.NaN;
        return String.format(Locale.ROOT, " %6d  %-8s  needle kept %d/%d  value retrieved dense %s pflash %d/%d"
                + "  keep %.3f  ttft dense %s ms  pflash %.0f ms  speedup %s", context,
                variant ? "variant" : "standard", kept, n, withDense ? dense + "/" + n : "-", pflash, n, keep,
                withDense ? String.format(Locale.ROOT, "%.0f", ttftDense) : "-", ttftPflash,
                withDense ? String.format(Locale.ROOT, "%.1fx", ttftDense / ttftPflash) : "-");
    }

    /** One prompt's results. */
    private record Outcome(int context, boolean variant, NiahPrompts.Built built, String value, EngineResult compressed,
            EngineResult dense) {
        boolean needleKept() {
            int from = built.needleStart();
            for (KeySpan s : compressed.keySpans()) {
                if (s.start() <= from && from < s.end()) {
                    if (s.end() >= built.needleEnd()) {
                        return true;
                    }
                    from = s.end();
                }
            }
            return false;
        }

        boolean retrieved(EngineResult r) {
            return r.text().contains(value);
        }

        double keepRatio() {
            return (double) compressed.tokens().keptBody() / compressed.tokens().body();
        }

        String line(int caseNumber) {
            return String.format(Locale.ROOT,
                    " %6d  %4d  %-8s  %4.0f%%  %5d %5d  %.3f  %-6s  %-5s  %-6s  %13s  %14.0f  %7s",
                    compressed.tokens().prompt(), caseNumber, variant ? "variant" : "standard", 100 * built.depth(),
                    compressed.tokens().body(), compressed.tokens().keptBody(), keepRatio(), yes(needleKept()),
                    dense == null ? "-" : yes(retrieved(dense)), yes(retrieved(compressed)),
                    dense == null ? "-" : String.format(Locale.ROOT, "%.0f", dense.timings().ttftMs()),
                    compressed.timings().ttftMs(),
                    dense == null ? "-" : String.format(Locale.ROOT, "%.1fx",
                            dense.timings().ttftMs() / compressed.timings().ttftMs()));
        }

        private static String yes(boolean b) {
            return b ? "yes" : "no";
        }
    }
}
