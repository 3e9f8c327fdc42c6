package dev.pflash.jobs;

import dev.pflash.jobs.corpus.MakeCorpus;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code make-corpus}: writes a generated test corpus ({@link MakeCorpus}) in every format the
 * jobs read, with bad files of every kind, deterministic from the seed.
 */
public final class MakeCorpusCommand {
    private MakeCorpusCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: make-corpus --output=<dir> [--docs=N] [--bad-fraction=F] [--long-fraction=L] [--seed=S]");
            out.println();
            CommandOptions.printHelp(out, MakeCorpusOptions.class);
            return 0;
        }
        MakeCorpus corpus;
        MakeCorpusOptions options;
        try {
            options = CommandOptions.parse(args, MakeCorpusOptions.class);
            if (options.getOutput() == null || options.getOutput().isBlank()) {
                throw new IllegalArgumentException("--output=<dir> is required: the folder to write the corpus to");
            }
            corpus = new MakeCorpus(options.getDocs(), options.getBadFraction(), options.getLongFraction(),
                    options.getSeed());
        } catch (IllegalArgumentException e) {
            err.println("make-corpus: " + e.getMessage());
            err.println("Run 'make-corpus --help' for the options.");
            return 2;
        }
        try {
            List<Path> files = corpus.writeTo(Path.of(options.getOutput()));
            out.println("wrote " + files.size() + " files (" + corpus.badFiles() + " bad) under " + options.getOutput());
            return 0;
        } catch (UncheckedIOException e) {
            err.println("make-corpus failed: " + e.getMessage());
            return 1;
        }
    }
}
