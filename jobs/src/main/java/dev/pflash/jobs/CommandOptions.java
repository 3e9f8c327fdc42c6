package dev.pflash.jobs;

import java.io.PrintStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Command-line options of the jobs: Beam {@link PipelineOptions} interfaces, written by users as
 * {@code --max-new-tokens=8} (kebab case, as the docs spell them) or Beam's own
 * {@code --maxNewTokens=8}; and a help table generated from each option's {@link Description} and
 * {@link Default}, so that {@code --help} can never drift from what is parsed.
 */
final class CommandOptions {
    private CommandOptions() {
    }

    /** Parses {@code args} into {@code type}; a bad option is an {@link IllegalArgumentException} naming it. */
    static <T extends PipelineOptions> T parse(String[] args, Class<T> type) {
        // Beam checks a parse against every options interface registered in this JVM, and commands
        // give some properties other defaults (generate's --max-new-tokens is not summarize's):
        // start from Beam's own registrations, so that a command's options parse on their own.
        PipelineOptionsFactory.resetCache();
        PipelineOptionsFactory.register(type);
        try {
            return PipelineOptionsFactory.fromArgs(toBeamNames(args)).withValidation().as(type);
        } catch (IllegalArgumentException e) {
            throw RunnerSupport.explainUnknownRunner(e);
        }
    }

    /** {@code --max-new-tokens=8} becomes {@code --maxNewTokens=8}; values are left alone. */
    static String[] toBeamNames(String[] args) {
        String[] out = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                int eq = a.indexOf('=');
                String name = eq < 0 ? a.substring(2) : a.substring(2, eq);
                out[i] = "--" + camel(name) + (eq < 0 ? "" : a.substring(eq));
            } else {
                out[i] = a;
            }
        }
        return out;
    }

    static String camel(String kebab) {
        StringBuilder sb = new StringBuilder(kebab.length());
        boolean upper = false;
        for (char c : kebab.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                sb.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return sb.toString();
    }

    static String kebab(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 8);
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                sb.append('-').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Prints every option that {@code type} and its project superinterfaces declare, in name order. */
    static void printHelp(PrintStream out, Class<? extends PipelineOptions> type) {
        List<Method> getters = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.getDeclaringClass().getName().startsWith("dev.pflash.") && m.getParameterCount() == 0
                    && (m.getName().startsWith("get") || m.getName().startsWith("is"))
                    && m.isAnnotationPresent(Description.class)) {
                getters.add(m);
            }
        }
        getters.sort(Comparator.comparing(CommandOptions::optionName));
        out.println("Options:");
        for (Method m : getters) {
            String def = defaultOf(m);
            out.printf(Locale.ROOT, "  --%s=<%s>%s%n", optionName(m), m.getReturnType().getSimpleName(),
                    def == null ? "" : "  (default: " + def + ")");
            out.println("      " + m.getAnnotation(Description.class).value());
        }
        out.println("  Beam's own options (--runner and the runner's settings) are accepted too.");
    }

    private static String optionName(Method getter) {
        String n = getter.getName();
        String prop = n.startsWith("is") ? n.substring(2) : n.substring(3);
        return kebab(Character.toLowerCase(prop.charAt(0)) + prop.substring(1));
    }

    private static String defaultOf(Method m) {
        for (Annotation a : m.getAnnotations()) {
            if (a.annotationType().getEnclosingClass() == Default.class) {
                try {
                    Object v = a.annotationType().getMethod("value").invoke(a);
                    return v instanceof Class<?> c ? c.getSimpleName() : String.valueOf(v);
                } catch (ReflectiveOperationException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
