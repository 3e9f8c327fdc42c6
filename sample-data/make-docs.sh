#!/usr/bin/env bash
# Regenerates the office documents in docs/ and the bad inputs in bad/ from the editable sources.
#
# A developer tool, not part of the build: the committed files in docs/ and bad/ are what the tests
# read, and CI never runs this script. Office files are written by LibreOffice headless; on Debian:
#   apt-get install -y --no-install-recommends libreoffice-writer libreoffice-calc \
#       libreoffice-impress qpdf
# plus python3 and iconv. LibreOffice stamps dates into its output, so a rerun changes bytes
# (and therefore SHA-256 values) but not the text, titles or authors that the tests check.
#
# Files written by hand and committed as they are (no source here):
#   docs/kettle-faq.html, docs/harbor-festival-thread.eml, docs/library-volunteer-handbook.md
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/sources"
DOCS="$HERE/docs"
BAD="$HERE/bad"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DOCS" "$BAD"

for tool in soffice qpdf python3 iconv; do
  command -v "$tool" >/dev/null || { echo "make-docs.sh: $tool is not on the PATH" >&2; exit 1; }
done

# A private LibreOffice profile, so that the script neither needs nor disturbs the user's one.
soffice_convert() { # <target format> <out dir> <input> [input filter]
  local filter=()
  if [[ $# -ge 4 ]]; then filter=(--infilter="$4"); fi
  soffice -env:UserInstallation="file://$WORK/lo-profile" --headless "${filter[@]}" \
    --convert-to "$1" --outdir "$2" "$3" >/dev/null 2> >(grep -v javaldx >&2)
}

# HTML sources are imported into Writer and saved as ODT first: a laid-out ODT carries the page
# count that DOCX (app.xml <Pages>) and DOC then inherit; a direct HTML->DOCX export lacks it.
writer_doc() { # <html source> <target extension>
  local name; name="$(basename "$1" .html)"
  soffice_convert odt "$WORK/odt" "$1" "HTML (StarWriter)"
  if [[ "$2" == odt ]]; then
    cp "$WORK/odt/$name.odt" "$DOCS/$name.odt"
  else
    soffice_convert "$2" "$DOCS" "$WORK/odt/$name.odt"
  fi
}

writer_doc "$SRC/bakery-coop-q3-report.html" docx
writer_doc "$SRC/tide-pools.html" odt
writer_doc "$SRC/cycling-committee-minutes.html" pdf
writer_doc "$SRC/lab-notebook-summary.html" rtf
writer_doc "$SRC/apiary-inspection-log.html" doc
python3 "$SRC/moss-field-guide/make-guide.py" > "$WORK/moss-field-guide.html"
writer_doc "$WORK/moss-field-guide.html" pdf

soffice_convert pptx "$DOCS" "$SRC/warehouse-safety.fodp"
soffice_convert xlsx "$DOCS" "$SRC/community-garden-budget.fods"

# Plain text in the old Windows code page (é, ß, ±, € and ½ are single bytes there).
iconv -f UTF-8 -t WINDOWS-1252 "$SRC/cafe-notes.txt" > "$DOCS/cafe-notes-cp1252.txt"

# ---- bad inputs (see bad/README.md for what each one is and where it fails) ----
: > "$BAD/empty.txt"
printf ' \t \n\n   \r\n\t\t  \n        \n' > "$BAD/whitespace-only.txt"

# Encrypted with a user password, so that the file cannot be opened (or its text read) without it.
qpdf --encrypt moss-reader moss-owner 256 -- "$DOCS/cycling-committee-minutes.pdf" "$BAD/encrypted.pdf"

python3 - "$DOCS/cycling-committee-minutes.pdf" "$BAD" <<'PY'
import io, random, struct, sys, zipfile, zlib
from pathlib import Path

source_pdf, bad = Path(sys.argv[1]), Path(sys.argv[2])
rng = random.Random(20240611)

# corrupt.pdf: the first quarter of a real PDF (header, first objects) followed by noise; the page
# tree, the catalogue and the cross-reference table are gone.
real = source_pdf.read_bytes()
(bad / "corrupt.pdf").write_bytes(real[: len(real) // 4] + rng.randbytes(2048))

# random.bin: 4 KiB of seeded random bytes.
(bad / "random.bin").write_bytes(rng.randbytes(4096))

# bomb.zip: a zip holding a zip holding 128 MiB of text; a few KB on disk.
line = b"this line repeats until the archive has inflated far beyond its size on disk\n"
filler = line * (128 * 1024 * 1024 // len(line))
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("filler.txt", filler)
with zipfile.ZipFile(bad / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("inner.zip", inner.getvalue())

# misleading.pdf: a real PNG image (a colour gradient, no text) under a .pdf name.
width = height = 48
raw = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 5, y * 5, 160)) for y in range(height))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
(bad / "misleading.pdf").write_bytes(png)
PY

ls -l "$DOCS" "$BAD"
