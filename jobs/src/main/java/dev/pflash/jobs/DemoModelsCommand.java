package dev.pflash.jobs;

import dev.pflash.runtime.models.DemoModels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code pflash.jar demo-models [--output=<dir>]}: regenerates the demo target and drafter from
 * {@code <dir>/tokenizer-corpus.txt}, byte for byte what is committed in {@code sample-data/models}.
 */
public final class DemoModelsCommand {
    private DemoModelsCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        Path dir = Path.of("sample-data", "models");
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.println("Usage: demo-models [--output=<dir>]  (default sample-data/models)");
                out.println("Trains the demo BPE vocabulary on <dir>/" + DemoModels.CORPUS_FILE + " and writes <dir>/"
                        + DemoModels.TARGET_FILE + " and <dir>/" + DemoModels.DRAFTER_FILE + ".");
                return 0;
            } else if (a.startsWith("--output=")) {
                dir = Path.of(a.substring("--output=".length()));
            } else {
                err.println("demo-models: unknown option " + a);
                return 2;
            }
        }
        if (!Files.isRegularFile(dir.resolve(DemoModels.CORPUS_FILE))) {
            err.println("demo-models: " + dir.resolve(DemoModels.CORPUS_FILE) + " not found");
            return 2;
        }
        DemoModels.generate(dir);
        out.println("wrote " + dir.resolve(DemoModels.TARGET_FILE) + " and " + dir.resolve(DemoModels.DRAFTER_FILE));
        return 0;
    }
}
