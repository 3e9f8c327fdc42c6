package dev.pflash.jobs.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.TimeZone;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.poi.ooxml.POIXMLProperties;
import org.apache.poi.xslf.usermodel.XMLSlideShow;
import org.apache.poi.xslf.usermodel.XSLFSlide;
import org.apache.poi.xslf.usermodel.XSLFTextBox;
import org.apache.poi.xssf.usermodel.XSSFRow;
import org.apache.poi.xssf.usermodel.XSSFSheet;
import org.apache.poi.xssf.usermodel.XSSFWorkbook;
import org.apache.poi.xwpf.usermodel.XWPFDocument;

/**
 * The formats make-corpus writes, each by the library that writes it for real (POI for OOXML,
 * PDFBox for PDF) or, for the text formats and ODF, as the format's own markup. Output is
 * byte-for-byte deterministic: creation dates are fixed and archives are rewritten with fixed
 * entry times ({@link Zips}).
 */
enum CorpusFormat {
    PDF("pdf") {
        @Override
        byte[] write(CorpusDocument doc) throws IOException {
            try (PDDocument pdf = new PDDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
                pdf.getDocumentInformation().setTitle(doc.title());
                pdf.getDocumentInformation().setAuthor(doc.author());
                pdf.getDocumentInformation().setCreationDate(FIXED_CALENDAR);
                pdf.setDocumentId(0L);
                PDType1Font font = new PDType1Font(Standard14Fonts.FontName.HELVETICA);
                List<String> lines = new ArrayList<>();
                lines.add(doc.title());
                for (String paragraph : doc.paragraphs()) {
                    lines.add("");
                    lines.addAll(wrap(paragraph, 90));
                }
                int perPage = 50;
                for (int start = 0; start < lines.size(); start += perPage) {
                    PDPage page = new PDPage(PDRectangle.LETTER);
                    pdf.addPage(page);
                    try (PDPageContentStream content = new PDPageContentStream(pdf, page)) {
                        content.beginText();
                        content.setFont(font, 10);
                        content.setLeading(13);
                        content.newLineAtOffset(50, 740);
                        for (String line : lines.subList(start, Math.min(lines.size(), start + perPage))) {
                            content.showText(line);
                            content.newLine();
                        }
                        content.endText();
                    }
                }
                pdf.save(out);
                return out.toByteArray();
            }
        }
    },
    DOCX("docx") {
        @Override
        byte[] write(CorpusDocument doc) throws IOException {
            try (XWPFDocument docx = new XWPFDocument(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
                properties(docx.getProperties(), doc);
                docx.createParagraph().createRun().setText(doc.title());
                for (String paragraph : doc.paragraphs()) {
                    docx.createParagraph().createRun().setText(paragraph);
                }
                docx.write(out);
                return Zips.normalize(out.toByteArray());
            }
        }
    },
    XLSX("xlsx") {
        @Override
        byte[] write(CorpusDocument doc) throws IOException {
            try (XSSFWorkbook xlsx = new XSSFWorkbook(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
                properties(xlsx.getProperties(), doc);
                XSSFSheet sheet = xlsx.createSheet("Notes");
                sheet.createRow(0).createCell(0).setCellValue(doc.title());
                int row = 1;
                for (String paragraph : doc.paragraphs()) {
                    XSSFRow cells = sheet.createRow(row++);
                    cells.createCell(0).setCellValue(paragraph);
                    cells.createCell(1).setCellValue(paragraph.length());
                }
                xlsx.write(out);
                return Zips.normalize(out.toByteArray());
            }
        }
    },
    PPTX("pptx") {
        @Override
        byte[] write(CorpusDocument doc) throws IOException {
            try (XMLSlideShow pptx = new XMLSlideShow(); ByteArrayOutputStream out = new ByteArrayOutputStream()) {
                properties(pptx.getProperties(), doc);
                for (int i = 0; i < doc.paragraphs().size(); i += 2) {
                    XSLFSlide slide = pptx.createSlide();
                    XSLFTextBox box = slide.createTextBox();
                    box.setAnchor(new java.awt.Rectangle(40, 40, 640, 440));
                    box.setText(i == 0 ? doc.title() + "\n" + doc.paragraphs().get(i) : doc.paragraphs().get(i));
                    if (i + 1 < doc.paragraphs().size()) {
                        box.addNewTextParagraph().addNewTextRun().setText(doc.paragraphs().get(i + 1));
                    }
                }
                pptx.write(out);
                return Zips.normalize(out.toByteArray());
            }
        }
    },
    ODT("odt") {
        @Override
        byte[] write(CorpusDocument doc) {
            StringBuilder body = new StringBuilder("<text:h text:outline-level=\"1\">").append(xml(doc.title()))
                    .append("</text:h>");
            for (String paragraph : doc.paragraphs()) {
                body.append("<text:p>").append(xml(paragraph)).append("</text:p>");
            }
            String content = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content"
                    + " xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
                    + " xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.3\">"
                    + "<office:body><office:text>" + body + "</office:text></office:body></office:document-content>";
            String meta = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-meta"
                    + " xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""
                    + " xmlns:dc=\"http://purl.org/dc/elements/1.1/\" office:version=\"1.3\"><office:meta>"
                    + "<dc:title>" + xml(doc.title()) + "</dc:title><dc:creator>" + xml(doc.author())
                    + "</dc:creator></office:meta></office:document-meta>";
            String manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest"
                    + " xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.3\">"
                    + "<manifest:file-entry manifest:full-path=\"/\""
                    + " manifest:media-type=\"application/vnd.oasis.opendocument.text\"/>"
                    + "<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>"
                    + "<manifest:file-entry manifest:full-path=\"meta.xml\" manifest:media-type=\"text/xml\"/>"
                    + "</manifest:manifest>";
            return Zips.odf("application/vnd.oasis.opendocument.text",
                    List.of("META-INF/manifest.xml", "content.xml", "meta.xml"), List.of(manifest, content, meta));
        }
    },
    HTML("html") {
        @Override
        byte[] write(CorpusDocument doc) {
            StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
                    .append(xml(doc.title())).append("</title><meta name=\"author\" content=\"")
                    .append(xml(doc.author())).append("\"></head>\n<body><h1>").append(xml(doc.title()))
                    .append("</h1>\n");
            for (String paragraph : doc.paragraphs()) {
                html.append("<p>").append(xml(paragraph)).append("</p>\n");
            }
            return html.append("</body></html>\n").toString().getBytes(StandardCharsets.UTF_8);
        }
    },
    EML("eml") {
        @Override
        byte[] write(CorpusDocument doc) {
            String mail = "From: " + doc.author() + " <" + doc.author().toLowerCase().replace(' ', '.')
                    + "@example.org>\r\nTo: archive@example.org\r\nSubject: " + doc.title()
                    + "\r\nDate: Mon, 1 Jan 2024 09:00:00 +0000\r\nMessage-ID: <" + Integer.toHexString(doc.hashCode())
                    + "@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                    + "Content-Transfer-Encoding: 8bit\r\n\r\n" + String.join("\r\n\r\n", doc.paragraphs()) + "\r\n";
            return mail.getBytes(StandardCharsets.UTF_8);
        }
    },
    RTF("rtf") {
        @Override
        byte[] write(CorpusDocument doc) {
            StringBuilder rtf = new StringBuilder("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}")
                    .append("{\\info{\\title ").append(rtf(doc.title())).append("}{\\author ")
                    .append(rtf(doc.author())).append("}}\\f0\\fs24 ").append(rtf(doc.title())).append("\\par\n");
            for (String paragraph : doc.paragraphs()) {
                rtf.append(rtf(paragraph)).append("\\par\n");
            }
            return rtf.append("}\n").toString().getBytes(StandardCharsets.US_ASCII);
        }
    },
    TXT("txt") {
        @Override
        byte[] write(CorpusDocument doc) {
            return doc.plainText().getBytes(StandardCharsets.UTF_8);
        }
    },
    MD("md") {
        @Override
        byte[] write(CorpusDocument doc) {
            StringBuilder md = new StringBuilder("# ").append(doc.title()).append("\n\n");
            for (int i = 0; i < doc.paragraphs().size(); i++) {
                if (i > 0 && i % 3 == 0) {
                    md.append("## Part ").append(i / 3 + 1).append("\n\n");
                }
                md.append(doc.paragraphs().get(i)).append("\n\n");
            }
            return md.toString().getBytes(StandardCharsets.UTF_8);
        }
    };

    static final Date FIXED_DATE = new Date(1_704_067_200_000L);
    static final Calendar FIXED_CALENDAR = fixedCalendar();

    private final String extension;

    CorpusFormat(String extension) {
        this.extension = extension;
    }

    String extension() {
        return extension;
    }

    abstract byte[] write(CorpusDocument doc) throws IOException;

    byte[] bytes(CorpusDocument doc) {
        try {
            return write(doc);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a " + extension + " document: " + e.getMessage(), e);
        }
    }

    private static void properties(POIXMLProperties properties, CorpusDocument doc) {
        POIXMLProperties.CoreProperties core = properties.getCoreProperties();
        core.setTitle(doc.title());
        core.setCreator(doc.author());
        core.setCreated(Optional.of(FIXED_DATE));
        core.setModified(Optional.of(FIXED_DATE));
    }

    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }

    private static String xml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String rtf(String text) {
        return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}");
    }

    private static Calendar fixedCalendar() {
        Calendar calendar = Calendar.getInstance(TimeZone.getTimeZone("UTC"));
        calendar.setTime(FIXED_DATE);
        return calendar;
    }
}
