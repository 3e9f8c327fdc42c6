package dev.pflash.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The configurations a benchmark runs: named presets or {@code name:option=value;option=value}
 * configurations, each multiplied by the sweeps ({@code --keep-ratio=0.03,0.05,0.1}: one run per
 * value; several sweeps multiply). A sweep of a PFlash setting leaves configurations without
 * PFlash alone, as they would only repeat the same run.
 */
final class BenchmarkPlan {
    /** The presets, by name: the options that make each. */
    static final Map<String, List<String>> PRESETS = presets();
    /** Options that may take several values, one run each. */
    static final Set<String> SWEEPS = Set.of("keep-ratio", "alpha", "compression-threshold", "batch-tokens",
            "prefix-cache-bytes", "context-tokens", "max-new-tokens", "threads");
    private static final Set<String> PFLASH_ONLY = Set.of("keep-ratio", "alpha", "compression-threshold");

    /** One configuration: a name (also its folder, made safe) and the options that set it apart. */
    record Config(String name, Map<String, String> options) {
        /** The options as command-line words. */
        List<String> words() {
            return options.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toList();
        }

        String folder() {
            return name.toLowerCase(Locale.ROOT).replace("+", "-plus-").replaceAll("[^a-z0-9.=-]+", "-")
                    .replaceAll("-+", "-").replaceAll("^-|-$", "");
        }

        boolean usesPflash() {
            return !"off".equalsIgnoreCase(options.getOrDefault("prefill-compression", "auto"));
        }
    }

    private BenchmarkPlan() {
    }

    private static Map<String, List<String>> presets() {
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("dense", List.of("prefill-compression=off", "prefix-cache-bytes=0"));
        p.put("dense+cache", List.of("prefill-compression=off"));
        p.put("pflash", List.of("prefill-compression=auto", "prefix-cache-bytes=0"));
        p.put("pflash+cache", List.of("prefill-compression=auto"));
        p.put("pflash-always", List.of("prefill-compression=always", "prefix-cache-bytes=0"));
        p.put("pflash-always+cache", List.of("prefill-compression=always"));
        return p;
    }

    /**
     * The configurations of {@code configs} (preset names or {@code name:option=value;...}) times
     * the sweeps, in that order.
     *
     * @throws IllegalArgumentException naming an unknown preset, a malformed configuration, a repeated
     *     name or a sweep of an option that cannot be swept
     */
    static List<Config> of(List<String> configs, Map<String, List<String>> sweeps) {
        for (String option : sweeps.keySet()) {
            if (!SWEEPS.contains(option)) {
                throw new IllegalArgumentException("--" + option + " cannot take several values; these can: "
                        + String.join(", ", SWEEPS.stream().sorted().toList()));
            }
        }
        List<Config> plan = new ArrayList<>();
        for (String spec : configs) {
            Config config = parse(spec.strip());
            for (Config swept : sweep(config, sweeps)) {
                if (plan.stream().anyMatch(c -> c.folder().equals(swept.folder()))) {
                    throw new IllegalArgumentException("--configs: '" + swept.name() + "' appears twice");
                }
                plan.add(swept);
            }
        }
        if (plan.isEmpty()) {
            throw new IllegalArgumentException("--configs is empty; give for example --configs=dense,pflash,pflash+cache");
        }
        return plan;
    }

    private static Config parse(String spec) {
        int colon = spec.indexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon).strip();
        List<String> settings;
        if (colon < 0) {
            settings = PRESETS.get(name);
            if (settings == null) {
                throw new IllegalArgumentException("--configs: '" + name + "' is not a preset (" + String.join(", ",
                        PRESETS.keySet()) + "); a configuration of your own reads name:option=value;option=value");
            }
        } else {
            settings = List.of(spec.substring(colon + 1).split(";"));
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("--configs: '" + spec + "' has no name before ':'");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (String setting : settings) {
            String s = setting.strip().replaceFirst("^--", "");
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--configs: '" + setting + "' in '" + spec
                        + "' is not option=value");
            }
            options.put(CommandOptions.kebab(s.substring(0, eq)), s.substring(eq + 1));
        }
        return new Config(name, options);
    }

    private static List<Config> sweep(Config config, Map<String, List<String>> sweeps) {
        List<Config> out = List.of(config);
        for (Map.Entry<String, List<String>> sweep : sweeps.entrySet()) {
            if (PFLASH_ONLY.contains(sweep.getKey()) && !config.usesPflash()) {
                continue;
            }
            List<Config> next = new ArrayList<>();
            for (Config c : out) {
                for (String value : sweep.getValue()) {
                    Map<String, String> options = new LinkedHashMap<>(c.options());
                    options.put(sweep.getKey(), value.strip());
                    next.add(new Config(c.name() + " " + sweep.getKey() + "=" + value.strip(), options));
                }
            }
            out = next;
        }
        return out;
    }
}
