#!/usr/bin/env python3
"""Assembles the moss field guide as HTML (stdout) from chapters.html, species.json and appendix.html.

The species accounts share one layout; the connecting sentences vary from account to account
(chosen with a fixed seed) so that the output is the same on every run.
"""
import html
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TITLE = "A Field Guide to Common Mosses"
AUTHOR = "Isobel Thorne"

FORMS = {
    "acrocarp": "acrocarp (upright shoots in cushions or turfs)",
    "pleurocarp": "pleurocarp (creeping, branched shoots in mats or wefts)",
    "sphagnum": "bog-moss (Sphagnum, with a head of crowded branches)",
}
OPENERS = [
    "In the field {common} appears as {look}.",
    "At first sight {common} is {look}.",
    "From standing height, expect {look}.",
    "The usual impression of {common} is of {look}.",
    "Seen on a damp day, {common} forms {look}.",
    "What catches the eye first is {look}.",
]
HABITAT_LEADS = [
    "",
    "Habitat is the first clue. ",
    "Substrate and setting matter here. ",
    "Note where it grows before anything else. ",
]
TIPS = [
    "Photograph it both wet and dry, because the two states look so different.",
    "Note the substrate in your book before moving on; it will help later if the name is in doubt.",
    "A ×20 lens shows the leaf details described above far better than a ×10.",
    "If you collect it, a thumbnail-sized piece in a paper packet is enough.",
    "Compare it side by side with its look-alikes when you find them growing together.",
    "Winter visits show it at its best, when the shoots are full of water.",
    "Revisit the same patch in another season and see how it has changed.",
    "Records with a grid reference are welcome at the society's recording evenings.",
    "Try sketching a shoot; drawing forces you to look at the details.",
    "Spray a dry piece with water and watch the leaves respond over a minute or two.",
    "Look for it again in a different habitat to learn how much it varies.",
    "Check the capsules, if there are any, before you decide on a name.",
]


def esc(text):
    return html.escape(text, quote=False)


def account(number, sp, rng):
    opener = rng.choice(OPENERS).format(common=sp["common"].lower() if rng.random() < 0.5 else sp["common"], look=sp["look"])
    opener = opener[0].upper() + opener[1:]
    lead = rng.choice(HABITAT_LEADS)
    tip = rng.choice(TIPS)
    return f"""
<h2>{number}. <i>{esc(sp['latin'])}</i>: {esc(sp['common'])}</h2>
<p><b>Growth form:</b> {esc(FORMS[sp['form']])}. <b>Size:</b> {esc(sp['size'])}. <b>Capsules:</b> {esc(sp['fruit'])}.</p>
<h3>Field marks</h3>
<p>{esc(opener)} {esc(sp['leaves'])}</p>
<p>{esc(sp['capsules'])}</p>
<h3>Habitat</h3>
<p>{esc(lead + sp['where'])}</p>
<h3>Similar species</h3>
<p>{esc(sp['confuse'])}</p>
<h3>Notes</h3>
<p>{esc(sp['note'])} {esc(tip)}</p>
"""


def main():
    rng = random.Random(2024)
    groups = json.loads((HERE / "species.json").read_text(encoding="utf-8"))
    parts = [f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{TITLE}</title>
<meta name="author" content="{AUTHOR}">
<meta name="description" content="A beginner's field guide to about forty common mosses, with chapters on equipment, habitats and recording">
<style>h1.chapter {{ page-break-before: always; }} p {{ text-align: justify; }}</style>
</head>
<body>
<p style="font-size: 28pt; text-align: center; margin-top: 6cm">{TITLE}</p>
<p style="font-size: 16pt; text-align: center">for walkers, gardeners and beginners with a hand lens</p>
<p style="font-size: 14pt; text-align: center; margin-top: 2cm">{AUTHOR}</p>
<h1 class="chapter">Contents</h1>
<ol>
<li>Why look at mosses</li><li>What a moss is</li><li>Equipment and how to look</li>
<li>Where mosses grow</li><li>Seasons and life cycle</li><li>Collecting with care</li>
"""]
    for group in groups:
        parts.append(f"<li>{esc(group['title'])}</li>\n")
    parts.append("</ol>\n<p>Appendix A. The velvet carpet census<br>Appendix B. Glossary</p>\n")
    parts.append((HERE / "chapters.html").read_text(encoding="utf-8"))
    number = 1
    for i, group in enumerate(groups, start=7):
        parts.append(f'\n<h1 class="chapter">{i}. {esc(group["title"])}</h1>\n<p>{esc(group["intro"])}</p>\n')
        for sp in group["species"]:
            parts.append(account(number, sp, rng))
            number += 1
    parts.append((HERE / "appendix.html").read_text(encoding="utf-8"))
    parts.append("</body>\n</html>\n")
    sys.stdout.write("".join(parts))


if __name__ == "__main__":
    main()
