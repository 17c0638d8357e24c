"""``report.docx``: the report as an editable Word document (python-docx).

:func:`write_docx` reads the report's own HTML page (:func:`geoapp.reporting.render_html`)
and writes its headings, paragraphs, lists, tables and figures in the same order, so the
Word copy says what the PDF says and a bureau can edit it before filing. Maps and charts
are the same pictures: ``<img>`` data URIs are decoded; an inline SVG chart is replaced
by the PNG its ``<figure data-png="KEY">`` names in ``images``. Page breaks follow the
elements of class ``newpage`` (the cover, the contents, the summary, atlas pages).
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from geoapp._atomic import atomic_path

log = logging.getLogger(__name__)

#: East Asian font named in the document (Word substitutes when missing).
EAST_ASIAN_FONT = "Microsoft YaHei"


@dataclass
class Block:
    """One block of the page: ``kind`` is h1-h3, p, li, pre, table, img or break."""

    kind: str
    text: str = ""
    style: str = ""
    rows: list[list[tuple[str, bool]]] = field(default_factory=list)
    image: bytes = b""


_BLOCK_TEXT = {"h1", "h2", "h3", "p", "li", "pre", "figcaption"}
_SKIP = {"style", "script", "title", "svg"}


class _Reader(HTMLParser):
    """Flatten the report's HTML into :class:`Block` s (text, tables, pictures)."""

    def __init__(self, images: Mapping[str, bytes]) -> None:
        super().__init__(convert_charrefs=True)
        self.images = images
        self.blocks: list[Block] = []
        self.skip = 0
        self.text: list[str] | None = None
        self.kind = ""
        self.style = ""
        self.table: list[list[tuple[str, bool]]] | None = None
        self.cell: list[str] | None = None
        self.cell_th = False
        self.breaks: list[str] = []  # tags that close a "newpage" element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        cls = a.get("class", "").split()
        if "newpage" in cls:
            self.breaks.append(tag)
        if tag == "figure" and a.get("data-png") in self.images:
            self.blocks.append(Block("img", image=self.images[a["data-png"]]))
        elif tag == "img":
            data = _data_uri(a.get("src", ""))
            if data:
                self.blocks.append(Block("img", image=data))
        elif tag == "table":
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell, self.cell_th = [], tag == "th"
        elif tag == "br" and self.text is not None:
            self.text.append("\n")
        elif tag in _BLOCK_TEXT and self.cell is None:
            self.text, self.kind, self.style = [], tag, " ".join(cls)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in ("td", "th") and self.cell is not None and self.table:
            self.table[-1].append((_clean("".join(self.cell)), self.cell_th))
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.blocks.append(Block("table", rows=[r for r in self.table if r]))
            self.table = None
        elif tag == self.kind and self.text is not None:
            raw = "".join(self.text)
            text = raw.strip("\n") if tag == "pre" else _clean(raw)
            if text:
                self.blocks.append(Block(tag, text=text, style=self.style))
            self.text, self.kind = None, ""
        if self.breaks and tag == self.breaks[-1]:
            self.breaks.pop()
            self.blocks.append(Block("break"))

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
        elif self.text is not None:
            self.text.append(data)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _data_uri(src: str) -> bytes:
    m = re.match(r"data:image/png;base64,(.*)", src, flags=re.S)
    return base64.b64decode(m.group(1)) if m else b""


def read_blocks(html_text: str, images: Mapping[str, bytes] | None = None) -> list[Block]:
    """Return the blocks of a report page in reading order (what the DOCX holds)."""
    reader = _Reader(images or {})
    reader.feed(html_text)
    reader.close()
    return reader.blocks


def _fonts(doc: Any, lang: str) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = doc.styles["Normal"]
    style.font.size = Pt(10)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    if lang == "zh":
        lang_el = rpr.makeelement(qn("w:lang"), {qn("w:eastAsia"): "zh-CN"})
        rpr.append(lang_el)


def _table(doc: Any, rows: list[list[tuple[str, bool]]]) -> None:
    from docx.shared import Pt

    ncol = max(len(r) for r in rows)
    table = doc.add_table(rows=0, cols=ncol)
    table.style = "Table Grid"
    for r in rows:
        cells = table.add_row().cells
        for k, (text, head) in enumerate(r):
            para = cells[k].paragraphs[0]
            run = para.add_run(text)
            run.font.size = Pt(8)
            run.bold = head


def write_docx(
    html_text: str,
    path: str | os.PathLike[str],
    *,
    images: Mapping[str, bytes] | None = None,
    lang: str = "en",
    title: str = "",
) -> Path:
    """Write the report page ``html_text`` as a Word document at ``path`` (atomically).

    Parameters
    ----------
    html_text
        The report's HTML (:func:`geoapp.reporting.render_html`).
    path
        Where to write ``report.docx``.
    images
        PNG bytes for the figures drawn as inline SVG (``<figure data-png="KEY">``).
    lang
        ``"zh"`` or ``"en"`` (the document's East Asian language).
    title
        The document's title (its core properties).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm, Pt

    doc = docx.Document()
    _fonts(doc, lang)
    doc.core_properties.title = title
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(1.8))
    width = Cm(17.0)
    for b in read_blocks(html_text, images):
        if b.kind == "h1":
            doc.add_heading(b.text, level=0)
        elif b.kind in ("h2", "h3"):
            doc.add_heading(b.text, level=int(b.kind[1]) - 1)
        elif b.kind == "li":
            doc.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "pre":
            run = doc.add_paragraph().add_run(b.text)
            run.font.name = "Courier New"
            run.font.size = Pt(8)
        elif b.kind in ("p", "figcaption"):
            para = doc.add_paragraph()
            run = para.add_run(b.text)
            if b.kind == "figcaption" or "note" in b.style or "clause" in b.style:
                run.font.size = Pt(8.5)
                run.italic = b.kind == "figcaption"
            if "synthetic" in b.style:
                run.bold = True
        elif b.kind == "table":
            _table(doc, b.rows)
        elif b.kind == "img":
            doc.add_picture(io.BytesIO(b.image), width=width)
        elif b.kind == "break":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    log.info("wrote %s", path)
    return Path(path)


__all__ = ["Block", "read_blocks", "write_docx"]
