package dev.pflash.jobs;

import dev.pflash.runtime.gguf.ModelFile;
import dev.pflash.runtime.models.ModelSources;
import dev.pflash.runtime.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * {@code pflash.jar tokenize --model=... --text=...|--file=...}: the token ids and pieces of a text
 * under a model's tokenizer, one {@code id -> 'piece'} line per token as llama.cpp's
 * {@code llama-tokenize} prints them (or only {@code [id, ...]} with {@code --ids}), so that a
 * tokenizer can be checked against other runtimes. Only the model's metadata is read.
 */
public final class TokenizeCommand {
    private TokenizeCommand() {
    }

    public static int execute(String[] args, PrintStream out, PrintStream err) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out.println("Usage: tokenize --model=<gguf|synthetic:preset> (--text=<text> | --file=<path>) [--ids]");
            CommandOptions.printHelp(out, TokenizeOptions.class);
            return 0;
        }
        TokenizeOptions options;
        String text;
        try {
            options = CommandOptions.parse(args, TokenizeOptions.class);
            text = text(options);
        } catch (IllegalArgumentException e) {
            err.println("tokenize: " + e.getMessage());
            err.println("Run 'tokenize --help' for the options.");
            return 2;
        }
        try (ModelFile model = ModelSources.open(options.getModel())) {
            Tokenizer tokenizer = Tokenizer.fromMetadata(model.metadata());
            int[] ids = ids(tokenizer, text, options);
            if (options.getIds()) {
                out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]")));
            } else {
                for (int id : ids) {
                    out.println(String.format(Locale.ROOT, "%6d -> '%s'", id, tokenizer.decode(new int[] {id}, true)));
                }
            }
            return 0;
        } catch (RuntimeException e) {
            err.println("tokenize: " + e.getMessage());
            return 1;
        }
    }

    private static String text(TokenizeOptions options) {
        if ((options.getText() == null) == (options.getFile() == null)) {
            throw new IllegalArgumentException("give exactly one of --text and --file");
        }
        if (options.getText() != null) {
            return options.getText();
        }
        try {
            return Files.readString(Path.of(options.getFile()), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read --file=" + options.getFile() + ": " + e.getMessage(), e);
        }
    }

    private static int[] ids(Tokenizer tokenizer, String text, TokenizeOptions options) {
        return options.getNoBos() ? tokenizer.encode(text, options.getParseSpecial())
                : tokenizer.encodeWithBos(text, options.getParseSpecial());
    }
}
