package dev.pflash.jobs;

import dev.pflash.runtime.gguf.GgufException;
import dev.pflash.runtime.models.SyntheticModels;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code pflash.jar synthetic-gguf --model=synthetic:<preset>[?type=T] --output=<file.gguf>}:
 * writes a synthetic model as a GGUF file, so that llama.cpp's {@code llama-bench} can run the
 * very model (same shapes, same weight bytes) that {@code bench} measures.
 */
public final class SyntheticGgufCommand {
    private SyntheticGgufCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        String model = null;
        Path output = null;
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.println("Usage: synthetic-gguf --model=synthetic:<preset>[?type=T][&ctx=N] --output=<file.gguf>");
                out.println("Writes the synthetic model as a GGUF file (same metadata and weight bytes as bench runs),"
                        + " for example for llama.cpp's llama-bench.");
                return 0;
            } else if (a.startsWith("--model=")) {
                model = a.substring("--model=".length());
            } else if (a.startsWith("--output=")) {
                output = Path.of(a.substring("--output=".length()));
            } else {
                err.println("synthetic-gguf: unknown option " + a);
                return 2;
            }
        }
        if (model == null || output == null) {
            err.println("synthetic-gguf: --model and --output are both required");
            return 2;
        }
        if (!SyntheticModels.isSynthetic(model)) {
            err.println("synthetic-gguf: --model=" + model + " is not a synthetic model (" + SyntheticModels.SCHEME
                    + "<preset>); a GGUF file needs no conversion");
            return 2;
        }
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            err.println("synthetic-gguf: the folder of --output=" + output + " does not exist");
            return 2;
        }
        try {
            SyntheticModels.write(model, output);
        } catch (GgufException e) {
            err.println("synthetic-gguf: " + e.getMessage());
            return 2;
        }
        out.println("wrote " + output + " (" + model + ")");
        return 0;
    }
}
