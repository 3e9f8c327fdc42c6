package dev.pflash.jobs.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Deterministic prose for generated documents: a title and paragraphs of sentences drawn from a
 * fixed vocabulary by a seeded {@link Random}.
 */
final class CorpusText {
    private static final String[] NOUNS = ("harbor garden bakery committee river library volunteer budget"
            + " orchard workshop festival council bridge ferry market lighthouse school kitchen museum"
            + " station forest meadow bicycle tractor beehive greenhouse warehouse quarry mill clinic").split(" ");
    private static final String[] VERBS = ("inspected repaired funded planned counted painted measured"
            + " recorded delivered opened closed reviewed approved cleaned moved planted harvested"
            + " visited checked replaced").split(" ");
    private static final String[] ADJECTIVES = ("small northern quiet busy seasonal annual careful old"
            + " new wooden shared local public coastal rural narrow early late").split(" ");
    private static final String[] PLACES = ("Alderby Brookmere Calderon Dunmore Eastwick Farrowdale Glenhollow"
            + " Harwick Ivybridge Juniper Point").split(" ");

    private final Random random;

    CorpusText(Random random) {
        this.random = random;
    }

    String title() {
        return capitalize(pick(ADJECTIVES)) + " " + pick(NOUNS) + " report for " + pick(PLACES) + " "
                + (2000 + random.nextInt(30));
    }

    List<String> paragraphs(int count) {
        List<String> paragraphs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            paragraphs.add(paragraph());
        }
        return paragraphs;
    }

    String paragraph() {
        StringBuilder text = new StringBuilder();
        int sentences = 3 + random.nextInt(4);
        for (int i = 0; i < sentences; i++) {
            if (i > 0) {
                text.append(' ');
            }
            text.append(sentence());
        }
        return text.toString();
    }

    private String sentence() {
        return "The " + pick(ADJECTIVES) + " " + pick(NOUNS) + " of " + pick(PLACES) + " was " + pick(VERBS)
                + " by the " + pick(NOUNS) + " team on day " + (1 + random.nextInt(365)) + ", and " + random.nextInt(500)
                + " " + pick(NOUNS) + "s were " + pick(VERBS) + " before the " + pick(ADJECTIVES) + " "
                + pick(NOUNS) + " " + pick(VERBS) + " it.";
    }

    private String pick(String[] words) {
        return words[random.nextInt(words.length)];
    }

    private static String capitalize(String word) {
        return Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }
}
