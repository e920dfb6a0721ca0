"""Build the docxtpl templates in this folder.

The .docx files here are what users edit (in Word or WPS): change fonts, add a logo,
reword headings, keep the {{ ... }} / {%tr ... %} tags. This script only recreates the
shipped defaults: ``python templates/build_templates.py``. Everything user-visible is
Chinese; the rendering code passes it through the Traditional converter on request.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent

FONT = "宋体"
TITLE_FONT = "黑体"


def _font(run, name: str = FONT, size: float = 10.5, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def _para(doc_or_cell, text: str, *, size: float = 10.5, bold: bool = False, align=None, font: str = FONT):
    p = doc_or_cell.add_paragraph()
    if align is not None:
        p.alignment = align
    run = p.add_run(text)
    _font(run, font, size, bold)
    return p


def _cell_text(cell, text: str, *, size: float = 9, bold: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    cell.text = ""
    p = cell.paragraphs[0]
    p.alignment = align
    run = p.add_run(text)
    _font(run, FONT, size, bold)


def _landscape(doc) -> None:
    s = doc.sections[0]
    s.orientation = WD_ORIENT.LANDSCAPE
    s.page_width, s.page_height = Cm(29.7), Cm(21.0)
    s.left_margin = s.right_margin = Cm(2.0)
    s.top_margin = s.bottom_margin = Cm(2.0)


def _fixed_props(doc, title: str) -> None:
    from datetime import datetime

    cp = doc.core_properties
    cp.title = title
    cp.author = "handover-dossier"
    cp.created = cp.modified = datetime(2024, 1, 1)
    cp.last_modified_by = "handover-dossier"
    cp.revision = 1


def build_catalogue(path: Path) -> None:
    """卷内目录 (DA/T 22-2015 columns), one row per item."""
    doc = Document()
    _landscape(doc)
    _fixed_props(doc, "卷内目录")
    _para(doc, "卷 内 目 录", size=18, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, font=TITLE_FONT)
    _para(doc, "{{ bundle.unit }}　{{ bundle.leader }}（{{ bundle.post }}）离任交接材料　任期 {{ bundle.term_text }}",
          size=10.5, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "案卷档号：{{ bundle.archival_code }}　　共 {{ summary['items'] }} 件　　编制日期：{{ bundle.created_date }}",
          size=9, align=WD_ALIGN_PARAGRAPH.CENTER)
    headers = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
    widths = [1.3, 3.9, 3.2, 3.4, 7.6, 2.0, 1.3, 1.2, 2.2]
    fields = ["it.seq_text", "it.archival_code", "it.doc_number", "it.responsible", "it.title_text", "it.date_text",
              "it.secrecy", "it.pages", "it.remark"]
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, h in enumerate(headers):
        _cell_text(table.rows[0].cells[i], h, size=10, bold=True)
    _cell_text(table.rows[1].cells[0], "{%tr for it in items %}")
    for i, f in enumerate(fields):
        align = WD_ALIGN_PARAGRAPH.LEFT if f in ("it.title_text", "it.responsible", "it.remark") else WD_ALIGN_PARAGRAPH.CENTER
        _cell_text(table.rows[2].cells[i], "{{ " + f + " }}", align=align)
    _cell_text(table.rows[3].cells[0], "{%tr endfor %}")
    for row in table.rows:
        for i, w in enumerate(widths):
            row.cells[i].width = Cm(w)
    # Repeat the header row on every page.
    trpr = table.rows[0]._tr.get_or_add_trPr()
    trpr.append(trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
    _para(doc, "{%p if exceptions %}")
    _para(doc, "未收入档案包的文件（{{ exceptions|length }} 件）：", size=10, bold=True)
    _para(doc, "{%p for ex in exceptions %}")
    _para(doc, "{{ loop.index }}. {{ ex.source }} —— {{ ex.reason }}", size=9)
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p endif %}")
    _para(doc, "{%p if missing %}")
    _para(doc, "清单中无对应材料的类目：{{ missing_text }}", size=10)
    _para(doc, "{%p endif %}")
    doc.save(path)


if __name__ == "__main__":
    build_catalogue(HERE / "catalogue.docx")
    print("wrote", HERE / "catalogue.docx")
