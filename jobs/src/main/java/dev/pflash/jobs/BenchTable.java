package dev.pflash.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pflash.runtime.backend.ElementType;
import dev.pflash.runtime.model.KvCache;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The results table of {@code bench}, in llama-bench's formats: a Markdown table for people
 * (sizes in MiB/GiB, parameters in M/B, tokens/s as mean ± sd), CSV and JSON for programs (bytes,
 * counts, the test's token counts, and each run's tokens/s in JSON). Rows are written as their
 * tests finish.
 */
final class BenchTable {
    /** Output formats, by their {@code --output} names. */
    enum Format {
        MD, CSV, JSON;

        static Format parse(String value) {
            for (Format f : values()) {
                if (f.name().equalsIgnoreCase(value.strip())) {
                    return f;
                }
            }
            throw new IllegalArgumentException("--output=" + value + " is not a table format; use md, csv or json");
        }
    }

    private static final List<String> MD_COLUMNS = List.of("model", "size", "params", "type", "backend", "threads",
            "test", "t/s");
    /** Column widths of the Markdown table; a longer value widens its cell. */
    private static final List<Integer> MD_WIDTHS = List.of(30, 10, 10, 8, 10, 7, 16, 20);
    /** Where the Markdown table puts type_k and type_v, when it has them: after threads, as llama-bench does. */
    private static final int MD_KV_AT = 6;
    /** Width of the type_k and type_v columns: the width of their headers. */
    private static final int MD_KV_WIDTH = "type_k".length();
    private static final List<String> CSV_COLUMNS = List.of("model", "model_size", "model_n_params", "model_type",
            "backend", "n_threads", "test", "n_prompt", "n_gen", "n_depth", "n_seqs", "repetitions", "avg_ts",
            "stddev_ts", "type_k", "type_v");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Format format;
    private final PrintStream out;
    private final BenchModel model;
    private final String backend;
    private final int threads;
    private final String kvType;
    /** Whether the Markdown table shows type_k and type_v: only for a cache not in the default type. */
    private final boolean kvColumns;
    private final List<Integer> mdWidths;
    private int rows;

    /** {@code kvType} is how the KV cache stores keys and values. */
    BenchTable(Format format, PrintStream out, BenchModel model, String backend, int threads, ElementType kvType) {
        this.format = format;
        this.out = out;
        this.model = model;
        this.backend = backend;
        this.threads = threads;
        this.kvType = kvType.label();
        this.kvColumns = kvType != KvCache.DEFAULT_TYPE;
        this.mdWidths = mdCells(MD_WIDTHS, MD_KV_WIDTH, MD_KV_WIDTH);
    }

    void begin() {
        switch (format) {
            case MD -> {
                out.println(mdRow(mdCells(MD_COLUMNS, "type_k", "type_v")));
                StringBuilder rule = new StringBuilder("|");
                for (int i = 0; i < mdWidths.size(); i++) {
                    boolean right = rightAligned(i);
                    rule.append(' ').append("-".repeat(mdWidths.get(i) - (right ? 1 : 0))).append(right ? ":" : "")
                            .append(" |");
                }
                out.println(rule);
            }
            case CSV -> out.println(String.join(",", CSV_COLUMNS));
            case JSON -> out.print("[");
        }
        out.flush();
    }

    void add(BenchResult r) {
        BenchTest t = r.test();
        switch (format) {
            case MD -> out.println(mdRow(mdCells(List.of(model.name(), size(model.bytes()), params(model.params()),
                    model.type(), backend, String.valueOf(threads), t.name(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", r.mean(), r.sd())), kvType, kvType)));
            case CSV -> out.println(String.join(",", csvField(model.name()), String.valueOf(model.bytes()),
                    String.valueOf(model.params()), csvField(model.type()), csvField(backend), String.valueOf(threads),
                    t.name(), String.valueOf(t.promptTokens()), String.valueOf(t.genTokens()),
                    String.valueOf(t.depth()), String.valueOf(t.sequences()),
                    String.valueOf(r.tokensPerSecond().length), number(r.mean()), number(r.sd()), kvType, kvType));
            case JSON -> out.print((rows == 0 ? "\n  " : ",\n  ") + jsonRow(r));
        }
        rows++;
        out.flush();
    }

    void end() {
        if (format == Format.JSON) {
            out.println(rows == 0 ? "]" : "\n]");
            out.flush();
        }
    }

    private String jsonRow(BenchResult r) {
        BenchTest t = r.test();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("model", model.name());
        row.put("model_size", model.bytes());
        row.put("model_n_params", model.params());
        row.put("model_type", model.type());
        row.put("backend", backend);
        row.put("n_threads", threads);
        row.put("type_k", kvType);
        row.put("type_v", kvType);
        row.put("test", t.name());
        row.put("n_prompt", t.promptTokens());
        row.put("n_gen", t.genTokens());
        row.put("n_depth", t.depth());
        row.put("n_seqs", t.sequences());
        row.put("avg_ts", r.mean());
        row.put("stddev_ts", r.sd());
        row.put("samples_ts", Arrays.stream(r.tokensPerSecond()).boxed().toList());
        try {
            return JSON.writeValueAsString(row);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a bench row as JSON", e);
        }
    }

    /** {@code cells} of a Markdown row, {@code k} and {@code v} put in as type_k and type_v where it has them. */
    private <T> List<T> mdCells(List<T> cells, T k, T v) {
        if (!kvColumns) {
            return cells;
        }
        List<T> all = new ArrayList<>(cells);
        all.addAll(MD_KV_AT, List.of(k, v));
        return all;
    }

    private String mdRow(List<String> cells) {
        StringBuilder sb = new StringBuilder("|");
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            boolean right = rightAligned(i);
            String pad = " ".repeat(Math.max(0, mdWidths.get(i) - c.length()));
            sb.append(' ').append(right ? pad + c : c + pad).append(" |");
        }
        return sb.toString();
    }

    /** Numbers align right, as llama-bench's do: size, params, threads (and the columns after), test, t/s. */
    private static boolean rightAligned(int column) {
        return column == 1 || column == 2 || column >= 5;
    }

    private static String size(long bytes) {
        double mib = bytes / (1024.0 * 1024.0);
        return mib < 1024 ? String.format(Locale.ROOT, "%.2f MiB", mib)
                : String.format(Locale.ROOT, "%.2f GiB", mib / 1024);
    }

    private static String params(long n) {
        return n < 1_000_000_000L ? String.format(Locale.ROOT, "%.2f M", n / 1e6)
                : String.format(Locale.ROOT, "%.2f B", n / 1e9);
    }

    private static String number(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }

    /** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
    private static String csvField(String v) {
        return v.contains(",") || v.contains("\"") || v.contains("\n") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }
}
