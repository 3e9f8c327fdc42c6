package dev.pflash.jobs.corpus;

import java.util.List;

/** What a generated document says: its title, author and paragraphs. */
record CorpusDocument(String title, String author, List<String> paragraphs) {
    String plainText() {
        return title + "\n\n" + String.join("\n\n", paragraphs) + "\n";
    }
}
