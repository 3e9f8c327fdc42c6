package dev.pflash.pipeline.classify;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The labels of a classification run, in the order the labels file gives them. The file has one
 * label per line, optionally followed by a tab and a description that the prompt shows the model;
 * blank lines and lines starting with {@code #} are skipped.
 */
public record LabelSet(List<Label> labels) implements Serializable {
    public LabelSet {
        labels = List.copyOf(labels);
        if (labels.size() < 2) {
            throw new IllegalArgumentException("a classification needs at least two labels, got " + labels.size());
        }
    }

    /** A label and what it means (empty when the file gives no description). */
    public record Label(String name, String description) implements Serializable {
        public Label {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
        }
    }

    /** Reads a UTF-8 labels file; see {@link #parse}. */
    public static LabelSet load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the labels: " + e.getMessage(), e);
        }
        return parse(file.toString(), text);
    }

    /**
     * Parses labels-file text; {@code source} names it in error messages.
     *
     * @throws IllegalArgumentException for fewer than two labels or a label given twice
     */
    public static LabelSet parse(String source, String text) {
        List<Label> labels = new ArrayList<>();
        Map<String, Integer> lineOf = new HashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank() || line.strip().startsWith("#")) {
                continue;
            }
            int tab = line.indexOf('\t');
            String name = (tab < 0 ? line : line.substring(0, tab)).strip();
            String description = tab < 0 ? "" : line.substring(tab + 1).strip();
            if (name.isEmpty()) {
                throw new IllegalArgumentException(source + ": line " + (i + 1) + " has a description but no label;"
                        + " write the label, then a tab, then its description");
            }
            Integer earlier = lineOf.putIfAbsent(name, i + 1);
            if (earlier != null) {
                throw new IllegalArgumentException(source + ": line " + (i + 1) + " repeats the label '" + name
                        + "' of line " + earlier + "; labels must be distinct");
            }
            labels.add(new Label(name, description));
        }
        if (labels.size() < 2) {
            throw new IllegalArgumentException(source + ": " + labels.size() + " label" + (labels.size() == 1 ? "" : "s")
                    + "; a classification needs at least two, one per line (a tab and a description may follow)");
        }
        return new LabelSet(labels);
    }

    /** The label names, in order: what the engine scores. */
    public List<String> names() {
        return labels.stream().map(Label::name).toList();
    }

    /** The labels as the prompt lists them: one per line, "- name: description". */
    public String asList() {
        StringBuilder text = new StringBuilder();
        for (Label label : labels) {
            text.append("- ").append(label.name());
            if (!label.description().isEmpty()) {
                text.append(": ").append(label.description());
            }
            text.append('\n');
        }
        return text.toString();
    }
}
