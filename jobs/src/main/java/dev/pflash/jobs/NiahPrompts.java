package dev.pflash.jobs;

import dev.pflash.runtime.engine.Engine;
import dev.pflash.runtime.engine.Prompt;
import dev.pflash.runtime.engine.PromptText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Needle-in-a-haystack prompts: filler sentences, one needle sentence "The special magic {key}
 * number is: {value}." at a random depth between 25% and 75% of the document, then a question.
 * The standard question quotes the key as the needle writes it; the variant writes it differently
 * (upper case, a space for the hyphen) and words the rest apart from the needle, so that no 4-gram of
 * the question occurs in the needle and lexical anchors cannot find it.
 */
final class NiahPrompts {
    static final String INSTRUCTIONS = "Read the document below and answer the question after it.\n\n";

    private static final List<String> FILLER = List.of(
            "The harbor committee met on Tuesday to review the repairs to the old pier.",
            "Volunteers counted nesting herons along the northern tide pools before the rain.",
            "A bakery on the corner sold out of rye loaves by the middle of the morning.",
            "The library extended its opening hours during the exam weeks of the spring term.",
            "Cyclists asked the council for a painted lane along the river road.",
            "Moss samples from the quarry wall were dried and labelled for the field guide.",
            "The orchestra rehearsed the second movement twice before the evening concert.",
            "Rain gauges on the hill recorded a wet week followed by three dry days.",
            "The ferry timetable changed when the winter schedule began in November.",
            "A group of students mapped the footpaths that cross the eastern meadow.",
            "The garden club planted beans, squash and marigolds in the shared beds.",
            "Fishermen mended their nets on the slipway while the tide was out.",
            "The museum opened a small exhibition of maps drawn by local sailors.",
            "Beekeepers inspected the hives and noted calm colonies with plenty of stores.",
            "The bus to the coast left on time despite the fog over the bridge.",
            "A carpenter repaired the wooden benches that line the village green.",
            "The school choir practised songs for the autumn fair in the old hall.",
            "Walkers reported that the cliff path was muddy after the storm.",
            "The market added stalls for cheese, honey and hand-knitted scarves.",
            "An old lighthouse keeper gave a talk about the ships he had guided home.",
            "The swimming club raised money for new lane ropes and a starting clock.",
            "Farmers along the valley cut hay early because of the warm spring.",
            "The town band played marches in the park on the first Sunday of the month.",
            "Children built a raft from driftwood and floated it across the pond.");
    private static final List<String> ADJECTIVES = List.of("amber", "cobalt", "silent", "northern", "velvet",
            "copper", "misty", "golden", "hollow", "crimson", "pale", "restless");
    private static final List<String> NOUNS = List.of("lighthouse", "orchard", "glacier", "lantern", "falcon",
            "quarry", "violin", "compass", "thistle", "kestrel", "canyon", "bellows");

    private NiahPrompts() {
    }

    /** One case's facts: the key, the value, where the needle goes (fraction of the document) and the filler order. */
    record Case(String key, String value, double depth, long fillerSeed) {
        String needle() {
            return "The special magic " + key + " number is: " + value + ".";
        }

        String question(boolean variant) {
            return variant
                    ? "\n\nWhich value goes with " + key.toUpperCase(Locale.ROOT).replace('-', ' ')
                            + " in the document? Reply with the digits only."
                    : "\n\nWhat is the special magic " + key + " number in the document? Answer with the number only.";
        }
    }

    static Case newCase(SplittableRandom rnd) {
        String key = ADJECTIVES.get(rnd.nextInt(ADJECTIVES.size())) + "-" + NOUNS.get(rnd.nextInt(NOUNS.size()));
        String value = Integer.toString(rnd.nextInt(1_000_000, 10_000_000));
        return new Case(key, value, rnd.nextDouble(0.25, 0.75), rnd.nextLong());
    }

    /**
     * The longest prompt of this case with at most {@code maxTokens} tokens, with where its needle
     * lies in the body.
     *
     * @throws IllegalStateException when the needle's tokens cannot be found in the body (the tokenizer
     *     merged them with their neighbours)
     */
    static Built build(Engine engine, Case c, boolean variant, int maxTokens) {
        SplittableRandom rnd = new SplittableRandom(c.fillerSeed());
        List<String> sentences = new ArrayList<>();
        // Every filler sentence is at least 4 tokens in any tokenizer, so maxTokens / 4 of them always suffice.
        int pool = Math.max(16, maxTokens / 4);
        for (int i = 0; i < pool; i++) {
            sentences.add(FILLER.get(rnd.nextInt(FILLER.size())));
        }
        int lo = 1;
        int hi = sentences.size();
        Built best = null;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Built b = assemble(engine, c, variant, sentences.subList(0, mid));
            if (b.prompt().length() <= maxTokens) {
                best = b;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("a prompt of " + maxTokens
                    + " tokens cannot hold even one filler sentence, the needle and the question");
        }
        return best;
    }

    private static Built assemble(Engine engine, Case c, boolean variant, List<String> filler) {
        int at = (int) Math.round(c.depth() * filler.size());
        List<String> sentences = new ArrayList<>(filler);
        sentences.add(at, c.needle());
        String body = String.join(" ", sentences);
        Prompt prompt = engine.tokenize("niah", new PromptText(INSTRUCTIONS, body, c.question(variant)));
        int[] needle = engine.encode(" " + c.needle());
        int start = indexOf(prompt.bodyTokens(), needle);
        if (start < 0) {
            throw new IllegalStateException("the needle's tokens were not found in the tokenized document");
        }
        return new Built(prompt, start, start + needle.length);
    }

    private static int indexOf(int[] haystack, int[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** A tokenized case and its needle's body tokens {@code [needleStart, needleEnd)}. */
    record Built(Prompt prompt, int needleStart, int needleEnd) {
        double depth() {
            return (double) needleStart / prompt.bodyTokens().length;
        }
    }
}
