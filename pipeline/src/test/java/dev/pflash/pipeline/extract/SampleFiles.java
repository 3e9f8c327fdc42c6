package dev.pflash.pipeline.extract;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/** The committed sample documents and bad inputs, with what extraction must find in each. */
final class SampleFiles {
    /** Tests run with the module as working directory, in the IDE and under {@code mvn -pl pipeline}. */
    static final Path ROOT = Paths.get("..", "sample-data").toAbsolutePath().normalize();
    static final Path DOCS = ROOT.resolve("docs");
    static final Path BAD = ROOT.resolve("bad");

    /** A good document: its unique phrase and the metadata Tika must report (null: none). */
    record Sample(String file, String phrase, String contentType, String title, String author, String language,
            Integer pageCount) {
        Path path() {
            return DOCS.resolve(file);
        }

        @Override
        public String toString() {
            return file;
        }
    }

    /** A bad input: the error class and the words its message must contain besides the file's URI. */
    record BadFile(String file, String errorClass, List<String> messageParts) {
        Path path() {
            return BAD.resolve(file);
        }

        @Override
        public String toString() {
            return file;
        }
    }

    static final List<Sample> SAMPLES = List.of(
            new Sample("apiary-inspection-log.doc", "the waxed-string gate", "application/msword",
                    "Orchard Apiary: Spring Inspection Log", "Gwen Hallett", null, null),
            new Sample("bakery-coop-q3-report.docx", "the sourdough starter dividend",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "Ferncliff Bakery Co-op: Third Quarter Report", "Marta Quill", "en-US", 2),
            new Sample("cafe-notes-cp1252.txt", "the crème brûlée accord", "text/plain; charset=windows-1252",
                    null, null, null, null),
            new Sample("community-garden-budget.xlsx", "lantern fund reserve",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "Hazel Lane Community Garden: Budget and Actuals", "Lena Brook", "en-GB", null),
            new Sample("cycling-committee-minutes.pdf", "the blue heron quorum", "application/pdf",
                    "Millbrook Cycling Committee: Minutes of the October Meeting", "Priya Natarajan", "en-US", 2),
            new Sample("harbor-festival-thread.eml", "the harbor lamp schedule", "message/rfc822",
                    "Re: Re: Lantern walk and the harbor lamp schedule",
                    "Nell Fairweather <nell.fairweather@example.org>", null, null),
            new Sample("kettle-faq.html", "the kettle warranty riddle", "text/html; charset=UTF-8",
                    "Brightwell K2 Kettle: Frequently Asked Questions", "Brightwell Customer Care", "en", null),
            new Sample("lab-notebook-summary.rtf", "the copper sulfate sunrise", "application/rtf",
                    "Crystal Growth Lab Notebook: Summary of Weeks 1 to 6", "Dr. Amara Osei", null, null),
            new Sample("library-volunteer-handbook.md", "the quiet shelf covenant", "text/markdown; charset=UTF-8",
                    null, null, null, null),
            new Sample("moss-field-guide.pdf", "the velvet carpet census", "application/pdf",
                    "A Field Guide to Common Mosses", "Isobel Thorne", "en-US", 40),
            new Sample("tide-pools.odt", "the anemone tide ledger", "application/vnd.oasis.opendocument.text",
                    "Life Between the Tides", "Jonah Reyes", null, 1),
            new Sample("warehouse-safety.pptx", "the forklift lullaby rule",
                    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                    "Warehouse Safety Refresher", "Kofi Mensah", "en-GB", null));

    private static final String EXTRACTION_EXCEPTION = ExtractionException.class.getName();

    static final List<BadFile> BAD_FILES = List.of(
            new BadFile("bomb.zip", "org.apache.tika.exception.TikaException",
                    List.of("suspected zip bomb", "maxCompressionRatio=100", "input bytes produced")),
            new BadFile("corrupt.pdf", "org.apache.tika.exception.TikaException",
                    List.of("could not be parsed as application/pdf", "Missing root object")),
            new BadFile("empty.txt", EXTRACTION_EXCEPTION, List.of("empty (0 bytes)", "no text")),
            new BadFile("encrypted.pdf", "org.apache.tika.exception.EncryptedDocumentException",
                    List.of("encrypted (password-protected)")),
            new BadFile("misleading.pdf", EXTRACTION_EXCEPTION,
                    List.of("no text extracted", "content is image/png", "name suggests application/pdf")),
            new BadFile("random.bin", EXTRACTION_EXCEPTION,
                    List.of("no text extracted", "content is application/octet-stream")),
            new BadFile("whitespace-only.txt", EXTRACTION_EXCEPTION, List.of("no text extracted", "only whitespace")));

    private SampleFiles() {
    }

    /** The URI by which Beam's FileIO names a local file. */
    static String uriOf(Path file) {
        return file.toAbsolutePath().normalize().toString();
    }

    /** The text with each run of whitespace as one space: PDFs and slides break lines anywhere. */
    static String wordsOf(String text) {
        return text.replaceAll("\\s+", " ");
    }
}
