package dev.pflash.jobs.corpus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Zip archives with fixed entry times, so that the same content gives the same bytes. */
final class Zips {
    private static final long FIXED_TIME = CorpusFormat.FIXED_DATE.getTime();

    private Zips() {
    }

    /** The archive rewritten entry by entry, in the same order, with fixed times. */
    static byte[] normalize(byte[] zip) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip));
                ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                ZipEntry copy = new ZipEntry(entry.getName());
                copy.setTime(FIXED_TIME);
                out.putNextEntry(copy);
                in.transferTo(out);
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite a zip archive: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }

    /** An OpenDocument package: {@code mimetype} first and stored, then the named XML parts. */
    static byte[] odf(String mimeType, List<String> names, List<String> parts) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            byte[] mime = mimeType.getBytes(StandardCharsets.US_ASCII);
            ZipEntry first = new ZipEntry("mimetype");
            first.setMethod(ZipEntry.STORED);
            first.setSize(mime.length);
            CRC32 crc = new CRC32();
            crc.update(mime);
            first.setCrc(crc.getValue());
            first.setTime(FIXED_TIME);
            out.putNextEntry(first);
            out.write(mime);
            out.closeEntry();
            for (int i = 0; i < names.size(); i++) {
                ZipEntry entry = new ZipEntry(names.get(i));
                entry.setTime(FIXED_TIME);
                out.putNextEntry(entry);
                out.write(parts.get(i).getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write an OpenDocument package: " + e.getMessage(), e);
        }
        return bytes.toByteArray();
    }
}
