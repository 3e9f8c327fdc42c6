package dev.pflash.jobs.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDResources;
import org.apache.pdfbox.pdmodel.common.PDStream;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.graphics.form.PDFormXObject;

/**
 * The kinds of bad input make-corpus writes, each a file the pipeline must turn into an error row
 * (stage {@code extract}) without stopping: {@link #EMPTY} and {@link #HANG} and {@link #HEAP_BOMB}
 * once per corpus, the others round-robin with content varied by the seed (so that no two bad
 * files share their bytes).
 */
enum BadFile {
    /** Zero bytes. */
    EMPTY("empty", "txt", true),
    /** A real PDF cut in half: the cross-reference table and trailer are gone. */
    CORRUPT_PDF("corrupt", "pdf", false),
    /** A real DOCX cut short: the zip's central directory is gone. */
    CORRUPT_DOCX("corrupt", "docx", false),
    /** A PDF encrypted by PDFBox with a user password. */
    ENCRYPTED_PDF("encrypted", "pdf", false),
    /** A zip whose one text member inflates to tens of megabytes of repeated words. */
    ZIP_BOMB("zip-bomb", "zip", false),
    /** Random bytes with a PDF's name. */
    MISNAMED("misnamed", "pdf", false),
    /** Random bytes. */
    RANDOM("random", "bin", false),
    /** Only spaces and newlines. */
    WHITESPACE("whitespace-only", "txt", false),
    /**
     * A PDF whose page draws a form that draws another form 64 times, six levels deep: about
     * 7e10 drawing operations with no text, which keep PDFBox's text stripper busy for hours.
     */
    HANG("hangs-parser", "pdf", true),
    /**
     * A PDF whose page content (Flate, under 1 MB) is one string of 512 MiB, which PDFBox reads
     * into memory whole (in a buffer that doubles as it grows).
     */
    HEAP_BOMB("heap-bomb", "pdf", true);

    private final String name;
    private final String extension;
    private final boolean once;

    BadFile(String name, String extension, boolean once) {
        this.name = name;
        this.extension = extension;
        this.once = once;
    }

    boolean once() {
        return once;
    }

    String fileName(int index) {
        return String.format("%s-%04d.%s", name, index, extension);
    }

    byte[] bytes(Random random, CorpusText text) {
        try {
            return write(random, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a " + name + " file: " + e.getMessage(), e);
        }
    }

    private byte[] write(Random random, CorpusText text) throws IOException {
        switch (this) {
            case EMPTY:
                return new byte[0];
            case CORRUPT_PDF: {
                byte[] pdf = CorpusFormat.PDF.write(new CorpusDocument(text.title(), "A. Writer", text.paragraphs(3)));
                return Arrays.copyOf(pdf, pdf.length / 2);
            }
            case CORRUPT_DOCX: {
                byte[] docx = CorpusFormat.DOCX.write(new CorpusDocument(text.title(), "A. Writer",
                        text.paragraphs(3)));
                return Arrays.copyOf(docx, docx.length / 2);
            }
            case ENCRYPTED_PDF:
                return encryptedPdf(random, text);
            case ZIP_BOMB:
                return zipBomb(random);
            case MISNAMED:
            case RANDOM: {
                byte[] bytes = new byte[512 + random.nextInt(4096)];
                random.nextBytes(bytes);
                return bytes;
            }
            case WHITESPACE: {
                byte[] bytes = new byte[1 + random.nextInt(2000)];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) (random.nextInt(8) == 0 ? '\n' : ' ');
                }
                return bytes;
            }
            case HANG:
                return nestedForms();
            case HEAP_BOMB:
                return hugeString(512 << 20);
            default:
                throw new IllegalStateException("no writer for " + this);
        }
    }

    private static byte[] encryptedPdf(Random random, CorpusText text) throws IOException {
        CorpusDocument doc = new CorpusDocument(text.title(), "A. Writer", text.paragraphs(2));
        try (PDDocument pdf = org.apache.pdfbox.Loader.loadPDF(CorpusFormat.PDF.write(doc));
                ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            StandardProtectionPolicy policy = new StandardProtectionPolicy("owner-" + random.nextInt(),
                    "user-" + random.nextInt(), new AccessPermission());
            policy.setEncryptionKeyLength(128);
            policy.setPreferAES(true);
            pdf.protect(policy);
            SecureRandom seeded = SecureRandom.getInstance("SHA1PRNG");
            seeded.setSeed(random.nextLong());
            pdf.getEncryption().getSecurityHandler().setCustomSecureRandom(seeded);
            pdf.save(out);
            return out.toByteArray();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA1PRNG", e);
        }
    }

    private static byte[] zipBomb(Random random) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            ZipEntry entry = new ZipEntry("words-" + random.nextInt(1000) + ".txt");
            entry.setTime(CorpusFormat.FIXED_DATE.getTime());
            zip.setLevel(Deflater.BEST_COMPRESSION);
            zip.putNextEntry(entry);
            byte[] block = "bomb ".repeat(4096).getBytes(StandardCharsets.US_ASCII);
            int blocks = 1000 + random.nextInt(1000);
            for (int i = 0; i < blocks; i++) {
                zip.write(block);
            }
            zip.closeEntry();
        }
        return bytes.toByteArray();
    }

    private static byte[] nestedForms() throws IOException {
        try (PDDocument pdf = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            pdf.setDocumentId(0L);
            PDFormXObject inner = form(pdf, "0 0 m 1 1 l S\n", null);
            for (int level = 0; level < 6; level++) {
                inner = form(pdf, "/F Do\n".repeat(64), inner);
            }
            PDPage page = new PDPage();
            page.setResources(new PDResources());
            page.getResources().put(COSName.getPDFName("F"), inner);
            PDStream content = new PDStream(pdf);
            try (OutputStream stream = content.createOutputStream(COSName.FLATE_DECODE)) {
                stream.write("/F Do\n".getBytes(StandardCharsets.US_ASCII));
            }
            page.setContents(content);
            pdf.addPage(page);
            pdf.save(out);
            return out.toByteArray();
        }
    }

    private static PDFormXObject form(PDDocument pdf, String operators, PDFormXObject calls) throws IOException {
        PDStream stream = new PDStream(pdf);
        try (OutputStream content = stream.createOutputStream(COSName.FLATE_DECODE)) {
            content.write(operators.getBytes(StandardCharsets.US_ASCII));
        }
        PDFormXObject form = new PDFormXObject(stream);
        form.setBBox(new org.apache.pdfbox.pdmodel.common.PDRectangle(0, 0, 10, 10));
        PDResources resources = new PDResources();
        if (calls != null) {
            resources.put(COSName.getPDFName("F"), calls);
        }
        form.setResources(resources);
        return form;
    }

    private static byte[] hugeString(int length) throws IOException {
        try (PDDocument pdf = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            pdf.setDocumentId(0L);
            PDPage page = new PDPage();
            PDStream content = new PDStream(pdf);
            try (OutputStream stream = content.createOutputStream(COSName.FLATE_DECODE)) {
                stream.write('(');
                byte[] block = new byte[1 << 20];
                Arrays.fill(block, (byte) 'a');
                for (int written = 0; written < length; written += block.length) {
                    stream.write(block);
                }
                stream.write(") Tj\n".getBytes(StandardCharsets.US_ASCII));
            }
            page.setContents(content);
            pdf.addPage(page);
            pdf.save(out);
            return out.toByteArray();
        }
    }
}
