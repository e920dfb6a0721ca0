"""Deterministic writers of realistic Chinese office documents.

The writers produce DOCX, text-layer PDF, XLSX and plain-text files laid out after the
GB/T 9704 conventions for official documents (公文格式): an optional secrecy marking
(密级) at the top left, the issuer's red header line (发文机关标志), the document number
(发文字号, e.g. ``云交发〔2023〕12号``) above a red separator line, a centred bold title,
the body and finally the issuer's signature and the date.

Every writer is byte-deterministic: the same arguments (including ``when``) give the
same bytes, so corpora built from these writers can be checksummed and compared.

Times: a naive ``when`` is taken as China Standard Time (UTC+8), the zone the
documents are written in; an aware one is converted. Document properties store UTC,
zip entries store the local (UTC+8) wall-clock time, as Office does.

Used by the bundled sample corpus (:mod:`handover_dossier.samplecorpus`), by the test
fixtures, by the evaluation set and by the benchmark corpus generator.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

__all__ = [
    "CST",
    "DEFAULT_WHEN",
    "PDF_FONT",
    "chinese_date",
    "normalize_zip",
    "wrap_text",
    "write_docx",
    "write_pdf",
    "write_txt",
    "write_xlsx",
]

#: China Standard Time; naive datetimes are interpreted in this zone.
CST = timezone(timedelta(hours=8), "CST")

#: Timestamp used when a writer is called without ``when`` (keeps output deterministic).
DEFAULT_WHEN = datetime(2020, 1, 1, 9, 0, 0)

# Fonts named in DOCX files (the customary GB/T 9704 faces; Word substitutes if absent).
_FONT_TITLE = "方正小标宋简体"
_FONT_BODY = "仿宋_GB2312"
_FONT_HEI = "黑体"
_FONT_KAI = "楷体_GB2312"
_RED = "FF0000"

# The Adobe CID font built into every PDF reader. It covers GBK, i.e. Simplified and
# Traditional characters alike, and round-trips through pdfium and pdfminer text
# extraction (MSung-Light does not extract correctly with pdfminer/pdfplumber).
PDF_FONT = "STSong-Light"

_CN_DIGITS = "〇一二三四五六七八九"
_HEADING1 = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING2 = re.compile(r"^（[一二三四五六七八九十]+）")
# Characters that must not begin a line (避头) and must not end one (避尾).
_NO_LINE_START = set("，。、；：？！）》」』】〕”’…—·%,.;:?!)]")
_NO_LINE_END = set("（《「『【〔“‘([")


# --------------------------------------------------------------------------- helpers


def chinese_date(d: date, numerals: bool = False) -> str:
    """Format a date the Chinese way.

    ``chinese_date(date(2023, 3, 5))`` gives ``"2023年3月5日"``; with ``numerals=True``
    it gives ``"二〇二三年三月五日"`` (the form older official documents use).
    """
    if not numerals:
        return f"{d.year}年{d.month}月{d.day}日"
    year = "".join(_CN_DIGITS[int(c)] for c in f"{d.year:04d}")
    return f"{year}年{_cn_number(d.month)}月{_cn_number(d.day)}日"


def _cn_number(n: int) -> str:
    """1..99 in Chinese numerals: 5 -> 五, 10 -> 十, 15 -> 十五, 20 -> 二十, 31 -> 三十一."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def _as_cst(when: datetime | None) -> datetime:
    """``when`` as an aware datetime in UTC+8 (naive values are taken as UTC+8)."""
    when = when or DEFAULT_WHEN
    if when.tzinfo is None:
        return when.replace(tzinfo=CST, microsecond=0)
    return when.astimezone(CST).replace(microsecond=0)


def _as_utc_naive(when: datetime | None) -> datetime:
    return _as_cst(when).astimezone(UTC).replace(tzinfo=None)


def _w3cdtf(when: datetime | None) -> str:
    return _as_utc_naive(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path(path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


# --------------------------------------------------------------------------- zip


def _zip_order(names: Iterable[str]) -> list[str]:
    """Stable OOXML entry order: content types, package rels, then the rest sorted."""
    first = ["[Content_Types].xml", "_rels/.rels"]
    names = list(names)
    return [n for n in first if n in names] + sorted(n for n in names if n not in first)


def _rewrite_zip(path: Path, when: datetime, replace: dict[str, bytes] | None = None) -> None:
    replace = replace or {}
    with zipfile.ZipFile(path) as zin:
        entries = {info.filename: zin.read(info.filename) for info in zin.infolist()}
    entries.update(replace)
    local = _as_cst(when)
    stamp = (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second // 2 * 2)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for name in _zip_order(entries):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zout.writestr(info, entries[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    path.write_bytes(buf.getvalue())


def normalize_zip(path: str | Path, when: datetime) -> None:
    """Rewrite a zip container (DOCX/XLSX) in place so that it is byte-deterministic.

    Every entry gets the timestamp ``when`` (local wall-clock time, as Office writes it),
    DOS attributes and deflate level 6; entries are ordered ``[Content_Types].xml``,
    ``_rels/.rels``, then all others sorted by name. Entry contents are untouched.
    """
    _rewrite_zip(Path(path), when)


# --------------------------------------------------------------------------- DOCX


def _set_run_font(run, east_asian: str, size_pt: float, *, bold: bool = False, color: str | None = None):
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run.font.name = "Times New Roman"
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asian)
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def _para(
    doc,
    text: str,
    *,
    font: str = _FONT_BODY,
    size: float = 16,
    bold: bool = False,
    align: str = "justify",
    indent_chars: float = 0,
    right_chars: float = 0,
    color: str | None = None,
    line_pt: float = 28.95,
):
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt

    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(max(line_pt, size * 1.2))
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    if right_chars:
        fmt.right_indent = Pt(size * right_chars)
    if text:
        _set_run_font(p.add_run(text), font, size, bold=bold, color=color)
    return p


# Children of w:pPr that the schema places after w:pBdr (Word rejects out-of-order XML).
_PPR_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
    "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _red_rule(paragraph) -> None:
    """Give a paragraph the red separator line below it (版头中的分隔线)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    pbdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "6"), ("w:color", _RED)):
        bottom.set(qn(key), value)
    pbdr.append(bottom)
    ppr.insert_element_before(pbdr, *_PPR_AFTER_PBDR)  # keep the schema's child order


def _page_number_footer(section) -> None:
    """Footer "— N —" with a PAGE field, centred (GB/T 9704 页码)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_run_font(p.add_run("— "), _FONT_BODY, 14)
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    fld.append(inner)
    p._p.append(fld)
    _set_run_font(p.add_run(" —"), _FONT_BODY, 14)


def _body_paragraph(doc, text: str):
    if _HEADING1.match(text) and len(text) <= 40:
        return _para(doc, text, font=_FONT_HEI, indent_chars=2)
    if _HEADING2.match(text) and len(text) <= 40:
        return _para(doc, text, font=_FONT_KAI, indent_chars=2)
    return _para(doc, text, indent_chars=2)


def _docx_table(doc, rows: list[list[str]]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    width = max((len(r) for r in rows), default=0)
    if not width:
        return
    table = doc.add_table(rows=len(rows), cols=width)
    table.style = "Table Grid"
    for i, row in enumerate(rows):
        for j in range(width):
            cell = table.cell(i, j)
            value = row[j] if j < len(row) else ""
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = Pt(0)
            if i == 0:
                p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _set_run_font(p.add_run(str(value)), _FONT_HEI if i == 0 else _FONT_BODY, 10.5)
    doc.add_paragraph()


def write_docx(
    path: str | Path,
    title: str,
    paragraphs: Sequence[str],
    *,
    issuer: str | None = None,
    doc_number: str | None = None,
    date_text: str | None = None,
    secrecy: str | None = None,
    core_title: str | None = None,
    core_author: str | None = None,
    tables: list[list[list[str]]] | None = None,
    header_text: str | None = None,
    when: datetime | None = None,
    red_header: bool = True,
) -> Path:
    """Write a Word document laid out as a GB/T 9704 official document.

    Parts appear only when their argument is given: ``secrecy`` (e.g. ``"秘密"``) top
    left in 黑体; ``issuer`` as the red header line ``"{issuer}文件"`` (unless it already
    ends in 文件) and again as the signature; ``doc_number`` centred above the red
    separator line; the centred bold ``title``; ``paragraphs`` as the body (``一、`` and
    ``（一）`` headings get 黑体 / 楷体); ``tables`` (each a list of rows of cells, the first
    row being the header) after the body; then issuer and ``date_text`` at the end.
    ``header_text`` goes into the page header; the footer carries the page number.
    With ``red_header=False`` the issuer is only the signature (reports, notes and
    other documents that are not issued under a red header).

    Core properties: title ``core_title`` (default ``title``), author ``core_author``
    (default ``issuer`` or ``""``), created = modified = ``when``. Output is
    byte-deterministic for equal arguments. Returns the path written.
    """
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    out = _path(path)
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16)
    normal.font.name = "Times New Roman"
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FONT_BODY)

    if header_text:
        hp = section.header.paragraphs[0]
        _set_run_font(hp.add_run(header_text), _FONT_BODY, 10.5)
    _page_number_footer(section)

    if secrecy:
        _para(doc, secrecy, font=_FONT_HEI, align="left")
    if issuer and red_header:
        red = issuer if issuer.endswith("文件") else f"{issuer}文件"
        _para(doc, "", line_pt=20)
        head = _para(
            doc,
            red,
            font=_FONT_TITLE,
            size=30 if len(red) <= 14 else 24,
            align="center",
            color=_RED,
            line_pt=40,
        )
        _para(doc, "", line_pt=20)
        if doc_number:
            head = _para(doc, doc_number, align="center")
        _red_rule(head)
        _para(doc, "")
    elif doc_number:
        _para(doc, doc_number, align="center")
        _para(doc, "")
    _para(doc, title, font=_FONT_TITLE, size=22, bold=True, align="center", line_pt=36)
    _para(doc, "")
    for text in paragraphs:
        _body_paragraph(doc, text)
    for rows in tables or []:
        _para(doc, "")
        _docx_table(doc, rows)
    if issuer or date_text:
        _para(doc, "")
        _para(doc, "")
        if issuer:
            _para(doc, issuer, align="right", right_chars=2)
        if date_text:
            _para(doc, date_text, align="right", right_chars=4)

    # python-docx's template carries a thumbnail of an unrelated English page: drop it.
    package_rels = doc.part.package.rels
    for rid in [rid for rid, rel in package_rels.items() if rel.reltype == RT.THUMBNAIL]:
        del package_rels[rid]
    cp = doc.core_properties
    cp.title = core_title if core_title is not None else title
    cp.author = core_author if core_author is not None else (issuer or "")
    cp.last_modified_by = cp.author
    cp.revision = 1
    cp.language = "zh-CN"
    cp.created = _as_utc_naive(when)
    cp.modified = _as_utc_naive(when)
    buf = io.BytesIO()
    doc.save(buf)
    out.write_bytes(buf.getvalue())
    normalize_zip(out, _as_cst(when))
    return out


# --------------------------------------------------------------------------- PDF

_MM = 72 / 25.4
_PAGE_W, _PAGE_H = 210 * _MM, 297 * _MM
_LEFT, _RIGHT, _TOP, _BOTTOM = 28 * _MM, 26 * _MM, 37 * _MM, 35 * _MM
_TEXT_W = _PAGE_W - _LEFT - _RIGHT
_BODY_SIZE = 16
_LINE = (225 * _MM) / 22  # 22 lines on the 225 mm text block


def _register_pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def _tokens(text: str) -> list[str]:
    """Split into wrap units: runs of Latin letters/digits stay whole, CJK split per char."""
    return re.findall(r"[A-Za-z0-9.\-_/%]+|.", text, flags=re.S)


def wrap_text(text: str, size: float, width: float, *, first_indent: float = 0) -> list[str]:
    """Wrap ``text`` to lines no wider than ``width`` points at font ``size``.

    Chinese text has no spaces, so lines break between characters (Latin runs are kept
    whole) with the usual 避头尾 rule: closing punctuation is pulled onto the previous
    line, opening punctuation is pushed onto the next. ``first_indent`` (points) is the
    first line's indent.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = _register_pdf_font()
    lines: list[str] = []
    line, used, limit = "", 0.0, width - first_indent
    for tok in _tokens(text):
        w = stringWidth(tok, font, size)
        if line and used + w > limit + 0.01 and tok[0] not in _NO_LINE_START:
            carry = ""
            while line and line[-1] in _NO_LINE_END:
                carry, line = line[-1] + carry, line[:-1]
            lines.append(line)
            line, limit = carry, width
            used = stringWidth(line, font, size)
        line += tok
        used += w
    if line or not lines:
        lines.append(line)
    return lines


class _PdfWriter:
    """A small cursor-based page composer over a reportlab canvas."""

    def __init__(self, canvas) -> None:
        self.c = canvas
        self.font = _register_pdf_font()
        self.page = 1
        self.y = _PAGE_H - _TOP

    def _footer(self) -> None:
        self.c.setFillColorRGB(0, 0, 0)
        label = f"— {self.page} —"
        t = self.c.beginText()
        t.setFont(self.font, 14)
        t.setTextRenderMode(0)
        t.setTextOrigin((_PAGE_W - self.c.stringWidth(label, self.font, 14)) / 2, _BOTTOM - 14 * _MM)
        t.textOut(label)
        self.c.drawText(t)

    def new_page(self) -> None:
        self._footer()
        self.c.showPage()
        self.page += 1
        self.y = _PAGE_H - _TOP

    def finish(self) -> None:
        self._footer()
        self.c.showPage()

    def skip(self, height: float) -> None:
        self.y -= height

    def line(
        self,
        text: str,
        *,
        size: float = _BODY_SIZE,
        x: float = _LEFT,
        align: str = "left",
        bold: bool = False,
        red: bool = False,
        height: float | None = None,
        right_pad: float = 0,
    ) -> None:
        height = height or max(_LINE, size * 1.35)
        if self.y - height < _BOTTOM:
            self.new_page()
        self.y -= height
        c = self.c
        c.setFont(self.font, size)
        if red:
            c.setFillColorRGB(0.85, 0, 0)
            c.setStrokeColorRGB(0.85, 0, 0)
        else:
            c.setFillColorRGB(0, 0, 0)
            c.setStrokeColorRGB(0, 0, 0)
        t = c.beginText()
        t.setFont(self.font, size)
        if bold:  # the CID font has no bold face: fill + thin stroke, as Word does
            t.setTextRenderMode(2)
            c.setLineWidth(size / 35)
        else:
            t.setTextRenderMode(0)
        width = c.stringWidth(text, self.font, size)
        if align == "center":
            x = (_PAGE_W - width) / 2
        elif align == "right":
            x = _PAGE_W - _RIGHT - right_pad - width
        t.setTextOrigin(x, self.y + (height - size) / 2)
        t.textOut(text)
        c.drawText(t)

    def rule(self) -> None:
        self.y -= 4
        self.c.setStrokeColorRGB(0.85, 0, 0)
        self.c.setLineWidth(1.5)
        self.c.line(_LEFT, self.y, _PAGE_W - _RIGHT, self.y)
        self.y -= 8

    def paragraph(self, text: str, *, size: float = _BODY_SIZE, indent_chars: float = 2) -> None:
        indent = size * indent_chars
        for i, piece in enumerate(wrap_text(text, size, _TEXT_W, first_indent=indent)):
            self.line(piece, size=size, x=_LEFT + (indent if i == 0 else 0))


def write_pdf(
    path: str | Path,
    title: str,
    paragraphs: Sequence[str],
    *,
    issuer: str | None = None,
    doc_number: str | None = None,
    date_text: str | None = None,
    secrecy: str | None = None,
    meta_title: str | None = None,
    meta_author: str | None = None,
    when: datetime | None = None,
    pages_min: int = 1,
    red_header: bool = True,
) -> Path:
    """Write an A4 PDF with a real text layer, laid out as a GB/T 9704 document.

    Text is set in the built-in CID font ``STSong-Light`` (nothing embedded), which
    covers Simplified and Traditional characters and extracts back to the same Unicode
    text with pdfium and pdfminer. Lines wrap per character with 避头尾 rules; long
    texts run over several pages, each with a "— N —" page number.

    ``red_header=False`` keeps the issuer as signature only (no red header line).
    ``pages_min``: if the document would be shorter, the body paragraphs are repeated
    (cyclically, after the original body) until it fills that many pages — for size and
    benchmark corpora. Document info: Title ``meta_title`` (default ``title``), Author
    ``meta_author`` (default ``issuer``), creation/modification date ``when``; the file
    is written in reportlab's invariant mode, so output is byte-deterministic.
    """
    from reportlab.lib.utils import TimeStamp
    from reportlab.pdfgen import canvas as rl_canvas

    out = _path(path)
    local = _as_cst(when)

    def render(body: Sequence[str]) -> tuple[bytes, int]:
        buf = io.BytesIO()
        c = rl_canvas.Canvas(buf, pagesize=(_PAGE_W, _PAGE_H), invariant=1, pageCompression=1)
        stamp = TimeStamp(invariant=1)
        stamp.t = local.timestamp()
        stamp.lt = local.timetuple()
        stamp.YMDhms = tuple(local.timetuple())[:6]
        stamp.dhh, stamp.dmm, stamp.tzname = 8, 0, "CST"
        c._doc._timeStamp = stamp
        c.setTitle(meta_title if meta_title is not None else title)
        c.setAuthor(meta_author if meta_author is not None else (issuer or ""))
        c.setCreator("")
        c.setSubject("")
        w = _PdfWriter(c)
        if secrecy:
            w.line(secrecy, align="left", bold=True)
        if issuer and red_header:
            red = issuer if issuer.endswith("文件") else f"{issuer}文件"
            w.skip(_LINE * 0.5)
            size = 30 if len(red) <= 14 else max(18.0, min(30.0, _TEXT_W / len(red)))
            w.line(red, size=size, align="center", red=True, bold=True, height=size * 1.8)
            w.skip(_LINE * 0.5)
            if doc_number:
                w.line(doc_number, align="center")
            w.rule()
            w.skip(_LINE * 0.5)
        elif doc_number:
            w.line(doc_number, align="center")
        for piece in wrap_text(title, 22, _TEXT_W - 44):
            w.line(piece, size=22, align="center", bold=True, height=36)
        w.skip(_LINE * 0.5)
        for text in body:
            w.paragraph(text)
        if issuer or date_text:
            w.skip(_LINE * 2)
            if issuer:
                w.line(issuer, align="right", right_pad=2 * _BODY_SIZE)
            if date_text:
                w.line(date_text, align="right", right_pad=4 * _BODY_SIZE)
        w.finish()
        c.save()
        return buf.getvalue(), w.page

    body = list(paragraphs)
    data, pages = render(body)
    while pages < pages_min and paragraphs:
        # grow the body in proportion to the missing pages, cycling through the paragraphs
        more = max(1, -(-len(body) * (pages_min - pages) // pages))
        body += [paragraphs[(len(body) + k) % len(paragraphs)] for k in range(more)]
        data, pages = render(body)
    out.write_bytes(data)
    return out


# --------------------------------------------------------------------------- XLSX


def _display_width(value: object) -> int:
    text = value.isoformat() if isinstance(value, date) else str(value if value is not None else "")
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(
    path: str | Path,
    sheets: dict[str, list[list[object]]],
    *,
    core_title: str | None = None,
    core_author: str | None = None,
    when: datetime | None = None,
) -> Path:
    """Write a workbook with one worksheet per ``sheets`` item (name -> rows).

    Conventions of Chinese office spreadsheets are applied: a first row holding a single
    value (a table caption such as ``"云溪县交通运输局固定资产台账"``) is merged across
    the table width, centred and bold; the next row with more than one value is the
    header row (bold, shaded, frozen below); floats get ``#,##0.00``, dates
    ``yyyy-mm-dd``; column widths follow the content (CJK counted double).

    Core properties: title ``core_title``, creator ``core_author`` (default ``""``),
    created = modified = ``when``. Output is byte-deterministic. Returns the path.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    out = _path(path)
    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for name, rows in sheets.items():
        ws = wb.create_sheet(title=name)
        width = max((len(r) for r in rows), default=1)
        header_row = None
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=col, value=value)
                cell.font = Font(name="宋体", size=11)
                if isinstance(value, float):
                    cell.number_format = "#,##0.00"
                elif isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
            filled = [v for v in row if v not in (None, "")]
            if r == 1 and len(filled) == 1 and width > 1:
                ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
                ws.cell(row=1, column=1).font = Font(name="宋体", size=16, bold=True)
                ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
                ws.row_dimensions[1].height = 30
            elif header_row is None and len(filled) > 1:
                header_row = r
                for col in range(1, len(row) + 1):
                    cell = ws.cell(row=r, column=col)
                    cell.font = Font(name="宋体", size=11, bold=True)
                    cell.fill = PatternFill("solid", fgColor="D9D9D9")
                    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if header_row is not None and r >= header_row:
                for col in range(1, len(row) + 1):
                    ws.cell(row=r, column=col).border = box
        if header_row is not None:
            ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        start = (header_row or 1) - 1
        for col in range(1, width + 1):
            cells = [r[col - 1] for r in rows[start:] if len(r) >= col]
            w = max((_display_width(v) for v in cells), default=8)
            ws.column_dimensions[get_column_letter(col)].width = min(max(w + 2, 6), 60)
    props = wb.properties
    props.title = core_title
    props.creator = core_author or ""
    props.lastModifiedBy = core_author or ""
    props.created = _as_utc_naive(when)
    buf = io.BytesIO()
    wb.save(buf)
    out.write_bytes(buf.getvalue())
    # openpyxl stamps dcterms:modified with the current time on save: pin it to ``when``.
    with zipfile.ZipFile(out) as z:
        core = z.read("docProps/core.xml").decode("utf-8")
    core = re.sub(
        r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
        lambda m: m.group(1) + _w3cdtf(when) + m.group(2),
        core,
    )
    _rewrite_zip(out, _as_cst(when), {"docProps/core.xml": core.encode("utf-8")})
    return out


# --------------------------------------------------------------------------- TXT

_TXT_ENCODINGS = {"utf-8", "utf-8-sig", "gb18030", "gbk", "big5"}


def write_txt(
    path: str | Path,
    title: str,
    paragraphs: Sequence[str],
    *,
    encoding: str = "utf-8",
    issuer: str | None = None,
    doc_number: str | None = None,
    date_text: str | None = None,
    newline: str = "\n",
) -> Path:
    """Write a plain-text document: title, document number, the paragraphs (each indented
    with two ideographic spaces, as typed in Notepad), then issuer and date.

    ``encoding`` is one of ``utf-8``, ``utf-8-sig`` (with BOM), ``gb18030``, ``gbk``,
    ``big5``; characters the codec cannot represent raise ``UnicodeEncodeError`` (no
    silent replacement). ``newline`` is ``"\\n"`` or ``"\\r\\n"``. Returns the path.
    """
    enc = encoding.lower().replace("_", "-")
    if enc not in _TXT_ENCODINGS:
        raise ValueError(f"unsupported encoding {encoding!r}; use one of {sorted(_TXT_ENCODINGS)}")
    out = _path(path)
    lines = [title, ""]
    if doc_number:
        lines += [doc_number, ""]
    lines += ["　　" + p for p in paragraphs]
    if issuer or date_text:
        lines.append("")
        lines += [x for x in (issuer, date_text) if x]
    text = newline.join(lines) + newline
    out.write_bytes(text.encode(enc))
    return out
