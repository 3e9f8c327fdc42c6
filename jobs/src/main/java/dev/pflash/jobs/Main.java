package dev.pflash.jobs;

import java.io.PrintStream;
import java.util.Arrays;

/** The command line of {@code pflash.jar}: {@code java -jar pflash.jar <command> [--option=value ...]}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Dispatches to a command; returns the exit status (2 for an unknown command). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            usage(err);
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "summarize":
                return SummarizeJob.execute(rest, out, err);
            case "classify":
                return ClassifyJob.execute(rest, out, err);
            case "generate":
                return GenerateCommand.execute(rest, out, err);
            case "demo-models":
                return DemoModelsCommand.execute(rest, out, err);
            case "niah":
                return NiahCommand.execute(rest, out, err);
            case "bench-ttft":
                return BenchTtftCommand.execute(rest, out, err);
            case "bench-prefix":
                return PrefixBenchCommand.execute(rest, out, err);
            case "bench":
                return BenchCommand.execute(rest, out, err);
            case "tokenize":
                return TokenizeCommand.execute(rest, out, err);
            case "benchmark":
                return BenchmarkCommand.execute(rest, out, err);
            case "report":
                return ReportCommand.execute(rest, out, err);
            case "make-corpus":
                return MakeCorpusCommand.execute(rest, out, err);
            case "synthetic-gguf":
                return SyntheticGgufCommand.execute(rest, out, err);
            case "help":
            case "--help":
            case "-h":
                usage(out);
                return 0;
            default:
                err.println("pflash: unknown command '" + args[0] + "'");
                usage(err);
                return 2;
        }
    }

    private static void usage(PrintStream out) {
        out.println("Usage: java -jar pflash.jar <command> [--option=value ...]");
        out.println();
        out.println("Commands:");
        out.println("  summarize   summarize documents (any format Tika reads) into Parquet tables");
        out.println("  classify    score documents against a labels file (top label, every label's probability)");
        out.println("  generate    run one prompt through one model (text to stdout, speeds to stderr)");
        out.println("  demo-models regenerate the demo models in sample-data/models from their corpus");
        out.println("  niah        needle-in-a-haystack cases, dense against PFlash: needle kept, value retrieved, TTFT");
        out.println("  bench       prefill and decode tokens/s of one model, as llama-bench measures them (md, csv, json)");
        out.println("  bench-ttft  time to first token, dense against PFlash, at several prompt lengths");
        out.println("  bench-prefix prefill saved by shared-prefix KV reuse: cache off and on, batched, labels");
        out.println("  tokenize    a text's token ids and pieces under a model's tokenizer, as llama-tokenize prints them");
        out.println("  benchmark   summarize the same documents under several engine configurations; HTML and Markdown report");
        out.println("  report      the benchmark report over runs that already exist (summarize, classify, benchmark)");
        out.println("  make-corpus write a generated corpus in every format, with bad files of every kind");
        out.println("  synthetic-gguf write a synthetic:<preset> model as a GGUF file (to run llama.cpp on the same model)");
        out.println();
        out.println("'java -jar pflash.jar <command> --help' lists a command's options.");
    }
}
