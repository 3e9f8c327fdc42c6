package dev.pflash.jobs.corpus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes a generated corpus: {@code docs} good documents in every {@link CorpusFormat}, in
 * {@code <output>/docs/}, and {@code bad} files of every {@link BadFile} kind in
 * {@code <output>/bad/}. Deterministic from the seed: the same settings give the same bytes.
 *
 * <p>Most documents are short (1 to 4 paragraphs); {@code longFraction} of them are long (40 to 60
 * paragraphs, several thousand tokens: enough for PFlash to compress). One in five good documents
 * is a near-duplicate of the one before: same title and first paragraphs, a different ending, so
 * that their prompts share a prefix.
 *
 * @param docs         files in all, good and bad
 * @param badFraction  share of them that are bad (at least one of each kind once there is room)
 * @param longFraction share of the good documents that are long
 * @param seed         seeds every choice
 */
public record MakeCorpus(int docs, double badFraction, double longFraction, long seed) {
    static final String[] AUTHORS = {"Ada Marsh", "Bo Lindqvist", "Chidi Okafor", "Dana Ruiz", "Emil Novak"};

    public MakeCorpus {
        if (docs < 1) {
            throw new IllegalArgumentException("--docs must be at least 1, got " + docs);
        }
        if (badFraction < 0 || badFraction > 1) {
            throw new IllegalArgumentException("--bad-fraction must be between 0 and 1, got " + badFraction);
        }
        if (longFraction < 0 || longFraction > 1) {
            throw new IllegalArgumentException("--long-fraction must be between 0 and 1, got " + longFraction);
        }
    }

    /** Bad files in the corpus. */
    public int badFiles() {
        return (int) Math.round(docs * badFraction);
    }

    /** Writes the corpus under {@code output}; returns the files written, good ones first. */
    public List<Path> writeTo(Path output) {
        Random random = new Random(seed);
        CorpusText text = new CorpusText(random);
        List<Path> written = new ArrayList<>();
        Path good = output.resolve("docs");
        Path bad = output.resolve("bad");
        try {
            Files.createDirectories(good);
            Files.createDirectories(bad);
            CorpusFormat[] formats = CorpusFormat.values();
            CorpusDocument previous = null;
            int goodFiles = docs - badFiles();
            for (int i = 0; i < goodFiles; i++) {
                CorpusDocument doc = previous != null && i % 5 == 4 ? nearDuplicate(previous, text)
                        : new CorpusDocument(text.title(), AUTHORS[random.nextInt(AUTHORS.length)],
                                text.paragraphs(random.nextDouble() < longFraction ? 40 + random.nextInt(21)
                                        : 1 + random.nextInt(4)));
                CorpusFormat format = formats[i % formats.length];
                written.add(write(good.resolve(String.format("doc-%06d.%s", i, format.extension())),
                        format.bytes(doc)));
                previous = doc;
            }
            for (int i = 0; i < badFiles(); i++) {
                BadFile kind = badKind(i);
                written.add(write(bad.resolve(kind.fileName(i)), kind.bytes(random, text)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(output + ": cannot write the corpus: " + e.getMessage(), e);
        }
        return written;
    }

    /** The i-th bad file's kind: the once-only kinds first, then the others in turn. */
    static BadFile badKind(int index) {
        List<BadFile> once = new ArrayList<>();
        List<BadFile> repeated = new ArrayList<>();
        for (BadFile kind : BadFile.values()) {
            (kind.once() ? once : repeated).add(kind);
        }
        return index < once.size() ? once.get(index) : repeated.get((index - once.size()) % repeated.size());
    }

    private static CorpusDocument nearDuplicate(CorpusDocument previous, CorpusText text) {
        List<String> paragraphs = new ArrayList<>(previous.paragraphs().subList(0,
                Math.max(1, previous.paragraphs().size() - 1)));
        paragraphs.add(text.paragraph());
        return new CorpusDocument(previous.title(), previous.author(), paragraphs);
    }

    private static Path write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return file;
    }
}
