"""Lines with their place on the page: what the official-document reader works on.

GB/T 9704-2012 fixes *where* each element of an official document goes: the issuing
organ's mark centred in large red type at the top, the document number under it, the
title centred in 2号 type, the body indented two characters, the signature and the date
(成文日期) right of centre at the end, the distribution record (版记) at the foot of the
last page. Text alone loses most of that; each reader therefore also hands over a list
of :class:`Line` objects carrying what its format knows about position and type:

- DOCX: paragraph alignment, indentation, font size, bold, colour, style name, tables
  and page breaks (:mod:`.docx`);
- PDF: the position and height of every text run on the page (:mod:`.pdf`, PDFium);
- scans: the boxes of the recognised lines (:mod:`.ocr`);
- plain text: leading spaces only.

Every attribute is optional (``-1`` / ``""`` = unknown): the reader in :mod:`.official`
uses what is there and falls back on text patterns for the rest.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass


@dataclass
class Line:
    """One line (or paragraph) of a document, in reading order."""

    text: str
    #: Page index from 0; -1 when unknown.
    page: int = -1
    #: "left", "center", "right", "justify" or "" (unknown).
    align: str = ""
    #: Font size in points (or any unit shared by the lines of one document); 0 = unknown.
    size: float = 0.0
    bold: bool = False
    #: Set in red (the 发文机关标志 and the rules of the 版头 are red).
    red: bool = False
    #: Left indent of the first character, in characters of body type; -1 unknown.
    indent: float = -1.0
    #: Distance of the last character from the right margin, in characters; -1 unknown.
    right: float = -1.0
    #: Top of the line as a share of the page height (0 = top); -1 unknown.
    top: float = -1.0
    #: A row of a table (cells joined by tabs).
    table: bool = False
    #: Paragraph style name (DOCX), e.g. "Title", "Heading 1".
    style: str = ""
    #: Position in the document's line list (set by :func:`number`).
    no: int = 0

    @property
    def clean(self) -> str:
        """The text without spaces between Chinese characters (OCR and justified PDFs
        put spaces inside words; 公文 text has none of its own)."""
        return _squeeze(self.text)


_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK})[ \t\u3000]+(?={_CJK})|(?<={_CJK})[ \t\u3000]+(?=[0-9])|(?<=[0-9])[ \t\u3000]+(?={_CJK})")


def _squeeze(text: str) -> str:
    return _CJK_GAP.sub("", text.strip()).replace("\u3000", " ").strip()


def number(lines: list[Line]) -> list[Line]:
    """Give each line its position and drop empty ones."""
    out = [ln for ln in lines if ln.text.strip()]
    for i, ln in enumerate(out):
        ln.no = i
    return out


def from_text(text: str, *, source_lines: list[str] | None = None) -> list[Line]:
    """Lines of plain text. Leading spaces tell a little: a line pushed far to the right
    (typewriter-style alignment of the signature and date) is taken as right-aligned, a
    line indented by a few spaces as centred when it is short."""
    out: list[Line] = []
    raw_lines = source_lines if source_lines is not None else text.splitlines()
    widths = [len(_expand(r).rstrip()) for r in raw_lines if r.strip()]
    width = max(40, statistics.median(sorted(widths)[-max(1, len(widths) // 3):]) if widths else 40)
    for raw in raw_lines:
        if not raw.strip():
            continue
        expanded = _expand(raw)
        lead = len(expanded) - len(expanded.lstrip())
        body = expanded.strip()
        ln = Line(raw.strip())
        if lead >= 2:
            ln.indent = lead / 2
            used = lead + _display_len(body)
            if lead >= 16 and used >= width * 0.75:
                ln.align = "right"
            elif lead >= 6 and abs((lead + used) / 2 - width / 2) <= 6:
                ln.align = "center"
        elif lead == 0:
            ln.indent = 0
        out.append(ln)
    return number(out)


def _expand(raw: str) -> str:
    """Full-width spaces count as two columns, tabs as eight."""
    return raw.replace("\u3000", "  ").expandtabs(8)


def _display_len(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


@dataclass
class Box:
    """A run of text on a page with its bounding box in page units (y grows downwards)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    red: bool = False
    bold: bool = False


def from_boxes(boxes: list[Box], page: int, width: float, height: float) -> list[Line]:
    """Lines of one page from positioned text runs (PDF text runs or OCR boxes).

    Runs whose vertical extents overlap by more than half are one line; each line gets
    its alignment relative to the page's text column (the left and right edges most
    lines share), its indent and its type size (box height)."""
    if not boxes:
        return []
    boxes = sorted(boxes, key=lambda b: ((b.y0 + b.y1) / 2, b.x0))
    rows: list[list[Box]] = []
    for b in boxes:
        h = max(b.y1 - b.y0, 1e-6)
        for row in reversed(rows[-3:]):
            ry0 = min(r.y0 for r in row)
            ry1 = max(r.y1 for r in row)
            overlap = min(ry1, b.y1) - max(ry0, b.y0)
            if overlap > 0.5 * min(h, ry1 - ry0):
                row.append(b)
                break
        else:
            rows.append([b])
    heights = [max(b.y1 - b.y0 for b in row) for row in rows]
    body_h = _body_height(rows, heights)
    # The text column: from the leftmost start to the rightmost end of the lines in body
    # type (a title is never wider; page headers, footers and page numbers in small type
    # are left out). With fewer than three such lines (a cover, a 版记 page, a short scan)
    # the GB/T 9704 margins of the page (28 mm and 26 mm of 210 mm) stand in.
    body = [row for row, h in zip(rows, heights, strict=True)
            if abs(h - body_h) <= body_h * 0.2 and sum(len(b.text) for b in row) >= 8]
    page_left, page_right = width * 0.133, width * 0.876
    if len(body) >= 3:
        # lines running into the page's margin (a long note, a wide table) do not count
        starts = [min(b.x0 for b in row) for row in body]
        ends = [max(b.x1 for b in row) for row in body]
        col_left = min((x for x in starts if x >= width * 0.05), default=min(starts))
        col_right = max((x for x in ends if x <= width * 0.93), default=max(ends))
        if col_right - col_left < width * 0.55:
            col_left, col_right = min(col_left, page_left), max(col_right, page_right)
    else:
        col_left, col_right = page_left, page_right
    mid = (col_left + col_right) / 2
    char = body_h or (col_right - col_left) / 28
    out: list[Line] = []
    for row, h in zip(rows, heights, strict=True):
        row.sort(key=lambda b: b.x0)
        x0 = row[0].x0
        x1 = max(b.x1 for b in row)
        parts: list[str] = []
        prev_x1 = None
        for b in row:
            if prev_x1 is not None and b.x0 - prev_x1 > char * 0.8:
                parts.append("  ")  # a wide gap: two fields on one line (文号 ... 签发人)
            parts.append(b.text)
            prev_x1 = b.x1
        text = "".join(parts)
        indent = (x0 - col_left) / char
        right = (col_right - x1) / char
        centre = (x0 + x1) / 2
        if indent > 1.0 and right > 1.0 and abs(indent - right) <= max(2.0, 0.2 * (indent + right)) \
                and abs(centre - mid) <= max(char * 1.5, (col_right - col_left) * 0.05):
            align = "center"
        elif indent > 3 and right < 6 and centre > mid:
            align = "right"
        elif indent <= 0.6 and right <= 0.8:
            align = "justify"
        else:
            align = "left"
        out.append(Line(text=text, page=page, align=align, size=round(h, 2), indent=round(indent, 2),
                        right=round(right, 2), top=round(row[0].y0 / height, 4) if height else -1,
                        red=any(b.red for b in row), bold=any(b.bold for b in row)))
    return out


def _body_height(rows: list[list[Box]], heights: list[float]) -> float:
    """The height of body type: the median line height, weighted by characters (OCR
    boxes vary by a few pixels with the ink of each line; PDF sizes are exact)."""
    weighted = sorted((h, sum(len(b.text) for b in row)) for row, h in zip(rows, heights, strict=True))
    total = sum(n for _, n in weighted)
    if not total:
        return heights[0] if heights else 0.0
    acc = 0
    for h, n in weighted:
        acc += n
        if acc >= total / 2:
            return h
    return weighted[-1][0]
