"""Build the docxtpl templates in this folder.

The .docx files here are what users edit (in Word or WPS): change fonts, add a logo,
reword headings, keep the {{ ... }} / {%tr ... %} / {%p ... %} tags. This script only
recreates the shipped defaults: ``python templates/build_templates.py``. Everything
user-visible is Chinese; the rendering code converts it to Traditional on request.

Fonts: East Asian text is set in 宋体 (headings 黑体), Latin text and digits in Times New
Roman - the faces every Chinese office has. On Linux, where they are absent, the PDF
converter maps them to Noto Serif/Sans CJK SC (see ``plugin/pdfrender.py``).

Templates (variables: see ``handover_dossier.bundle.render.bundle_context``):

=====================  ============================================================
``cover.docx``         封面: unit, leader, post, term, date range, count, retention, code
``catalogue.docx``     卷内目录 with the DA/T 22-2015 columns
``public_catalogue``   卷内目录（公开版）: without secret / not-for-publication items
``certificate.docx``   交接书: materials by category, gaps, signature blocks
``transfer_list.docx`` 移交清单: every item handed over, signatures
``reference_table``    备考表: counts, notes, compiler, checker, date
``gap_report.docx``    缺项与问题报告
``verify_report``      四性检测报告 (written by ``dossier verify --report``)
=====================  ============================================================
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent

FONT = "宋体"
TITLE_FONT = "黑体"
LATIN = "Times New Roman"
LEFT, CENTER, RIGHT = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT


# -- low-level helpers -------------------------------------------------------------
def _rfonts(rpr, east_asia: str) -> None:
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _font(run, name: str = FONT, size: float = 10.5, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    _rfonts(run._element.get_or_add_rPr(), name)


def _base(doc, *, landscape: bool = False, title: str, footer: bool = True) -> None:
    """Page, default fonts (so text inserted by templates inherits them), fixed properties."""
    s = doc.sections[0]
    if landscape:
        s.orientation = WD_ORIENT.LANDSCAPE
        s.page_width, s.page_height = Cm(29.7), Cm(21.0)
        s.left_margin = s.right_margin = Cm(2.0)
        s.top_margin = s.bottom_margin = Cm(2.0)
    else:
        s.page_width, s.page_height = Cm(21.0), Cm(29.7)
        s.left_margin, s.right_margin = Cm(2.6), Cm(2.4)
        s.top_margin, s.bottom_margin = Cm(2.5), Cm(2.3)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _rfonts(normal.element.get_or_add_rPr(), FONT)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    # East Asian language tag: line breaking and punctuation follow Chinese rules.
    rpr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    for style in ("Table Grid",):
        doc.styles[style].font.size = Pt(9)
    cp = doc.core_properties
    cp.title = title
    cp.author = "handover-dossier"
    cp.language = "zh-CN"
    cp.created = cp.modified = datetime(2024, 1, 1)
    cp.last_modified_by = "handover-dossier"
    cp.revision = 1
    if footer:
        _page_footer(s)


def _page_footer(section) -> None:
    """Centered "第 N 页 共 M 页" with PAGE / NUMPAGES fields."""
    p = section.footer.paragraphs[0]
    p.alignment = CENTER
    for text, field in (("第 ", None), (None, "PAGE"), (" 页　共 ", None), (None, "NUMPAGES"), (" 页", None)):
        if field is None:
            _font(p.add_run(text), FONT, 9)
            continue
        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), field)
        r = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "1"
        r.append(t)
        fld.append(r)
        p._p.append(fld)


def _para(container, text: str = "", *, size: float = 10.5, bold: bool = False, align=None, font: str = FONT,
          before: float = 0, after: float = 0, indent: float | None = None, line: float | None = None):
    p = container.add_paragraph()
    if align is not None:
        p.alignment = align
    pf = p.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if indent is not None:
        pf.first_line_indent = Pt(indent)
    if line is not None:
        pf.line_spacing = Pt(line)
    if text:
        _font(p.add_run(text), font, size, bold)
    return p


def _tag(container, text: str):
    """A paragraph holding only a docxtpl {%p ... %} tag (removed on rendering)."""
    return _para(container, text, size=2)


def _cell(cell, text: str, *, size: float = 9, bold: bool = False, align=CENTER, font: str = FONT,
          middle: bool = True) -> None:
    """Fill a table cell. ``middle``: centre vertically - not used in the rows that repeat
    once per item: it makes LibreOffice's layout of long tables about twice as slow."""
    cell.text = ""
    p = cell.paragraphs[0]
    p.alignment = align
    if text:
        _font(p.add_run(text), font, size, bold)
    if middle:
        tcpr = cell._tc.get_or_add_tcPr()
        v = OxmlElement("w:vAlign")
        v.set(qn("w:val"), "center")
        tcpr.append(v)


def _table(doc, rows: int, widths_cm: list[float], *, borders: bool = True):
    table = doc.add_table(rows=rows, cols=len(widths_cm))
    if borders:
        table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tblpr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(w)
    return table


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _row_height(row, cm: float) -> None:
    trpr = row._tr.get_or_add_trPr()
    h = OxmlElement("w:trHeight")
    h.set(qn("w:val"), str(int(Cm(cm).twips)))
    h.set(qn("w:hRule"), "atLeast")
    trpr.append(h)


def _no_split(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))


def _loop_table(doc, headers: list[str], fields: list[str], widths: list[float], loop: str, *,
                left: tuple[str, ...] = (), header_size: float = 10, size: float = 9):
    """A table with a header row repeated on every page and one row per element of ``loop``."""
    table = _table(doc, 4, widths)
    for i, h in enumerate(headers):
        _cell(table.rows[0].cells[i], h, size=header_size, bold=True, font=TITLE_FONT)
    _repeat_header(table.rows[0])
    _row_height(table.rows[0], 0.9)
    _cell(table.rows[1].cells[0], "{%tr for " + loop + " %}")
    for i, f in enumerate(fields):
        _cell(table.rows[2].cells[i], "{{ " + f + " }}", size=size, align=LEFT if f in left else CENTER, middle=False)
    _row_height(table.rows[2], 0.8)
    _no_split(table.rows[2])
    _cell(table.rows[3].cells[0], "{%tr endfor %}")
    return table


def _title(doc, text: str, size: float = 22, after: float = 6) -> None:
    _para(doc, text, size=size, bold=False, align=CENTER, font=TITLE_FONT, after=after)


def _save(doc, name: str) -> Path:
    """Save with fixed zip timestamps, so that rebuilding unchanged templates changes no bytes."""
    import io
    import zipfile

    buf = io.BytesIO()
    doc.save(buf)
    path = HERE / name
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info))
    return path


# -- the templates -----------------------------------------------------------------
CATALOGUE_HEADERS = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
CATALOGUE_WIDTHS = [1.1, 3.5, 4.0, 3.4, 7.0, 1.9, 1.1, 1.1, 2.6]
CATALOGUE_FIELDS = ["it.seq_text", "it.archival_code", "it.doc_number", "it.responsible", "it.title_text",
                    "it.date_text", "it.secrecy", "it.pages", "it.remark"]


def build_catalogue() -> Path:
    """卷内目录 (DA/T 22-2015 归档文件目录 columns), one row per item, landscape A4."""
    doc = Document()
    _base(doc, landscape=True, title="卷内目录")
    _title(doc, "卷 内 目 录", size=18, after=4)
    _para(doc, "{{ bundle.unit }}　{{ bundle.leader }}{{ bundle.post_paren }}离任交接材料　任期 {{ bundle.term_text }}",
          size=10.5, align=CENTER)
    _para(doc, "案卷档号：{{ bundle.archival_code }}　　共 {{ summary.item_count }} 件　　保管期限：{{ bundle.retention }}"
          "　　编制日期：{{ bundle.created_date }}", size=9, align=CENTER, after=6)
    _loop_table(doc, CATALOGUE_HEADERS, CATALOGUE_FIELDS, CATALOGUE_WIDTHS, "it in items",
                left=("it.title_text", "it.responsible", "it.remark"))
    _para(doc, "注：题名加“[ ]”者为整理时自拟；日期为 8 位数字（年月日）；“待复核”表示归类置信度较低，需档案人员确认。",
          size=8, before=4)
    _tag(doc, "{%p if exceptions %}")
    _para(doc, "未收入档案包的文件（{{ exceptions|length }} 件）：", size=10, bold=True, before=6)
    _tag(doc, "{%p for ex in exceptions %}")
    _para(doc, "{{ loop.index }}. {{ ex.source }} —— {{ ex.reason }}", size=9)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if missing %}")
    _para(doc, "清单中无对应材料的类目：{{ missing_text }}", size=10, before=6)
    _tag(doc, "{%p endif %}")
    return _save(doc, "catalogue.docx")


def build_public_catalogue() -> Path:
    """卷内目录（公开版）: the catalogue without secret or not-for-publication items."""
    doc = Document()
    _base(doc, landscape=True, title="卷内目录（公开版）")
    _title(doc, "卷 内 目 录（公开版）", size=18, after=4)
    _para(doc, "{{ bundle.unit }}　{{ bundle.leader }}{{ bundle.post_paren }}离任交接材料　任期 {{ bundle.term_text }}",
          size=10.5, align=CENTER)
    _para(doc, "案卷档号：{{ bundle.archival_code }}　　公开 {{ public.count }} 件　　编制日期：{{ bundle.created_date }}",
          size=9, align=CENTER, after=6)
    headers = [h for h in CATALOGUE_HEADERS if h != "密级"]
    widths = [1.1, 3.5, 4.0, 3.4, 8.1, 1.9, 1.1, 2.6]
    fields = [f for f in CATALOGUE_FIELDS if f != "it.secrecy"]
    _loop_table(doc, headers, fields, widths, "it in public_items", left=("it.title_text", "it.responsible", "it.remark"))
    _tag(doc, "{%p if public.withheld %}")
    _para(doc, "说明：本目录不含标有密级或按规定不予公开的文件（{{ public.withheld }} 件），序号沿用卷内目录。",
          size=9, before=6)
    _tag(doc, "{%p endif %}")
    return _save(doc, "public_catalogue.docx")


def build_cover() -> Path:
    """封面: the file cover of the handover dossier."""
    doc = Document()
    _base(doc, title="封面", footer=False)
    _para(doc, "档号：{{ bundle.archival_code }}", size=12, align=RIGHT, after=60)
    _para(doc, "{{ bundle.unit }}", size=20, align=CENTER, font=TITLE_FONT, after=18)
    _title(doc, "领导干部离任交接档案", size=28, after=70)
    rows = [
        ("单　　位", "{{ bundle.unit or '—' }}"),
        ("离任领导", "{{ bundle.leader or '—' }}"),
        ("职　　务", "{{ bundle.post or '—' }}"),
        ("接任领导", "{{ bundle.incoming or '—' }}"),
        ("任　　期", "{{ bundle.term_text }}"),
        ("起止日期", "{{ bundle.date_range_text }}"),
        ("件　　数", "{{ summary.item_count }} 件"),
        ("保管期限", "{{ bundle.retention }}"),
        ("全 宗 号", "{{ bundle.fonds or '—' }}"),
    ]
    table = _table(doc, len(rows), [3.6, 8.4], borders=False)
    for row, (label, value) in zip(table.rows, rows, strict=True):
        _cell(row.cells[0], label, size=14, font=TITLE_FONT, align=RIGHT)
        _cell(row.cells[1], value, size=14, align=LEFT)
        _row_height(row, 1.15)
        _bottom_border(row.cells[1])
    _para(doc, "", after=80)
    _para(doc, "{{ bundle.unit }}", size=14, align=CENTER, after=6)
    _para(doc, "{{ bundle.created_cn }}", size=14, align=CENTER)
    return _save(doc, "cover.docx")


def _bottom_border(cell) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    b = OxmlElement("w:bottom")
    b.set(qn("w:val"), "single")
    b.set(qn("w:sz"), "6")
    b.set(qn("w:color"), "000000")
    borders.append(b)
    tcpr.append(borders)


def build_certificate() -> Path:
    """交接书: what is handed over, by category; the gaps found; the parties' signatures."""
    doc = Document()
    _base(doc, title="领导干部离任工作交接书")
    _title(doc, "领导干部离任工作交接书", size=20, after=4)
    _para(doc, "档号：{{ bundle.archival_code }}", size=9, align=CENTER, after=10)
    _para(doc, "根据干部任免决定，{{ bundle.unit }}{{ bundle.post }}{{ bundle.leader }}同志（任期 {{ bundle.term_text }}）"
          "离任，由{{ bundle.incoming_text }}同志接任。经交接双方共同清点、核对，并在监交单位监督下，"
          "对以下事项进行交接：", size=12, indent=24, line=22, after=6)
    _para(doc, "一、移交材料", size=12, font=TITLE_FONT, before=4, after=4)
    table = _loop_table(doc, ["类目代码", "类　目", "件数", "备　注"], ["c.code", "c.name", "c.count", "c.remark"],
                        [2.2, 7.4, 1.8, 4.6], "c in categories", left=("c.name", "c.remark"), header_size=10.5, size=10)
    total = table.add_row()
    _cell(total.cells[0], "合计", size=10, bold=True)
    _cell(total.cells[1], "{{ categories|length }} 个类目，覆盖 {{ summary.covered }} 个", size=10, align=LEFT)
    _cell(total.cells[2], "{{ summary.item_count }}", size=10, bold=True)
    _cell(total.cells[3], "{{ summary.exceptions_text }}", size=9, align=LEFT)
    _para(doc, "二、交接中发现的缺项和问题", size=12, font=TITLE_FONT, before=10, after=4)
    _tag(doc, "{%p if findings %}")
    _tag(doc, "{%p for f in findings %}")
    _para(doc, "{{ loop.index }}. {{ f.message }}", size=11, indent=24, line=20)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p else %}")
    _para(doc, "未发现缺项和片面性问题。", size=11, indent=24, line=20)
    _tag(doc, "{%p endif %}")
    _para(doc, "三、其他说明", size=12, font=TITLE_FONT, before=10, after=4)
    _para(doc, "移交材料的明细见《卷内目录》和《移交清单》，缺项和问题的详情见《缺项与问题报告》。"
          "以上材料已封装为电子档案包（档号 {{ bundle.archival_code }}），每份文件均附 SHA-256 和 SM3 校验值。",
          size=11, indent=24, line=20)
    _para(doc, "本交接书一式＿＿份，交接双方及监交单位各执一份。", size=11, indent=24, line=20, after=10)
    _para(doc, "四、签字", size=12, font=TITLE_FONT, before=6, after=4)
    sig = _table(doc, 7, [3.4, 4.6, 4.6, 3.4])
    for i, h in enumerate(["身　份", "单位及职务", "签　字", "日　期"]):
        _cell(sig.rows[0].cells[i], h, size=10.5, bold=True, font=TITLE_FONT)
    parties = [
        ("移交人\n（离任领导）", "{{ bundle.post }} {{ bundle.leader }}"),
        ("接交人\n（接任领导）", "{{ bundle.incoming }}"),
        ("监交人\n（组织部门）", ""),
        ("监交人\n（纪检监察机关）", ""),
        ("监交人\n（财政部门）", ""),
        ("监交人\n（审计机关）", ""),
    ]
    for row, (role, who) in zip(sig.rows[1:], parties, strict=True):
        _cell(row.cells[0], role, size=10)
        _cell(row.cells[1], who, size=10)
        _cell(row.cells[2], "", size=10)
        _cell(row.cells[3], "　　年　月　日", size=10)
        _row_height(row, 1.6)
        _no_split(row)
    return _save(doc, "certificate.docx")


def build_transfer_list() -> Path:
    """移交清单: every document handed over, for the parties to tick and sign."""
    doc = Document()
    _base(doc, landscape=True, title="移交清单")
    _title(doc, "移 交 清 单", size=18, after=4)
    _para(doc, "{{ bundle.unit }}　{{ bundle.leader }}{{ bundle.post_paren }}离任交接　案卷档号：{{ bundle.archival_code }}",
          size=10.5, align=CENTER, after=6)
    headers = ["序号", "类目", "题名", "日期", "格式", "页数", "大小", "SHA-256（前 16 位）", "备注"]
    widths = [1.2, 3.0, 9.2, 1.9, 1.5, 1.1, 1.6, 3.6, 2.6]
    fields = ["it.seq_text", "it.category_text", "it.title_text", "it.date_text", "it.format_text", "it.pages",
              "it.size_text", "it.sha256_short", "it.remark"]
    _loop_table(doc, headers, fields, widths, "it in items", left=("it.category_text", "it.title_text", "it.remark"))
    _para(doc, "共移交文件 {{ summary.item_count }} 件（其中内容相同者 {{ summary.duplicates }} 件只存一份），"
          "另有 {{ summary.exceptions }} 件未收入，原因见卷内目录。", size=10, before=6, after=14)
    sig = _table(doc, 1, [8.6, 8.6, 8.6], borders=False)
    for cell, role in zip(sig.rows[0].cells, ["移交人：", "接交人：", "监交人："], strict=True):
        _cell(cell, role + "＿＿＿＿＿＿＿＿", size=11, align=LEFT)
    _para(doc, "日期：　　　　年　　月　　日", size=11, align=RIGHT, before=12)
    return _save(doc, "transfer_list.docx")


def build_reference_table() -> Path:
    """备考表: the file's notes, compiler, checker and date (DA/T 22)."""
    doc = Document()
    _base(doc, title="备考表")
    _title(doc, "备 考 表", size=20, after=16)
    table = _table(doc, 2, [16.0])
    _cell(table.rows[0].cells[0], "本卷情况说明", size=12, font=TITLE_FONT, align=LEFT)
    cell = table.rows[1].cells[0]
    cell.text = ""
    lines = [
        "本卷共有文件 {{ summary.item_count }} 件，覆盖清单类目 {{ summary.covered }}/{{ categories|length }} 个；"
        "保管期限 {{ bundle.retention }}。",
        "其中永久 {{ retention_counts['永久'] }} 件，定期30年 {{ retention_counts['定期30年'] }} 件，"
        "定期10年 {{ retention_counts['定期10年'] }} 件。",
        "内容相同的文件 {{ summary.duplicates }} 件只存一份，在目录中分别著录。",
        "来源中另有 {{ summary.exceptions }} 件未收入档案包，原因见卷内目录。",
        "归类置信度较低、待人工复核的文件 {{ summary.needs_review }} 件。",
        "标有密级或不予公开的文件 {{ public.withheld }} 件，未列入公开版目录。",
        "发现缺项和问题 {{ findings|length }} 项，详见《缺项与问题报告》。",
        "文件起止日期：{{ bundle.date_range_text }}。",
    ]
    first = True
    for text in lines:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        p.paragraph_format.first_line_indent = Pt(24)
        p.paragraph_format.line_spacing = Pt(24)
        _font(p.add_run(text), FONT, 12)
    _row_height(table.rows[1], 15.0)
    _para(doc, "", after=18)
    people = _table(doc, 3, [3.0, 5.0, 3.0, 5.0], borders=False)
    cells = [("立卷人：", "{{ bundle.compiler }}"), ("检查人：", "{{ bundle.checker }}")]
    for row, (label, value) in zip(people.rows[:2], cells, strict=True):
        _cell(row.cells[0], label, size=12, align=RIGHT)
        _cell(row.cells[1], value, size=12, align=LEFT)
        _bottom_border(row.cells[1])
        _row_height(row, 1.0)
    _cell(people.rows[2].cells[0], "立卷时间：", size=12, align=RIGHT)
    _cell(people.rows[2].cells[1], "{{ bundle.created_cn }}", size=12, align=LEFT)
    _bottom_border(people.rows[2].cells[1])
    _row_height(people.rows[2], 1.0)
    return _save(doc, "reference_table.docx")


def build_gap_report() -> Path:
    """缺项与问题报告: missing categories, the departure audit, one-sidedness, yearly plans."""
    doc = Document()
    _base(doc, title="缺项与问题报告")
    _title(doc, "离任交接材料缺项与问题报告", size=18, after=4)
    _para(doc, "{{ bundle.unit }}　{{ bundle.leader }}{{ bundle.post_paren }}　任期 {{ bundle.term_text }}",
          size=10.5, align=CENTER)
    _para(doc, "案卷档号：{{ bundle.archival_code }}　　编制日期：{{ bundle.created_date }}", size=9, align=CENTER, after=10)
    _para(doc, "{{ gaps.summary_text }}", size=12, indent=24, line=22, after=6)

    _para(doc, "一、清单类目缺项", size=12, font=TITLE_FONT, before=6, after=4)
    _tag(doc, "{%p if missing_rows %}")
    _loop_table(doc, ["类目代码", "类　目", "应有材料"], ["m.code", "m.name", "m.description"], [2.2, 5.0, 8.8],
                "m in missing_rows", left=("m.name", "m.description"), size=10)
    _tag(doc, "{%p else %}")
    _para(doc, "清单所列类目均有对应材料。", size=11, indent=24)
    _tag(doc, "{%p endif %}")

    _para(doc, "二、离任（经济责任）审计", size=12, font=TITLE_FONT, before=10, after=4)
    _para(doc, "{{ gaps.audit_text }}", size=11, indent=24, line=20)

    _para(doc, "三、材料的全面性（问题、债务、未尽事宜）", size=12, font=TITLE_FONT, before=10, after=4)
    _tag(doc, "{%p if one_sided %}")
    _tag(doc, "{%p for f in one_sided %}")
    _para(doc, "{{ loop.index }}. {{ f.message }}", size=11, indent=24, line=20)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p else %}")
    _para(doc, "{{ gaps.balance_text }}", size=11, indent=24, line=20)
    _tag(doc, "{%p endif %}")

    _para(doc, "四、任期各年度的工作计划和工作总结", size=12, font=TITLE_FONT, before=10, after=4)
    _tag(doc, "{%p if years %}")
    _loop_table(doc, ["年度", "{{ gaps.plan_label }}", "{{ gaps.summary_label }}", "结　论"],
                ["y.year", "y.plans", "y.summaries", "y.conclusion"], [2.4, 3.4, 3.4, 6.8], "y in years",
                left=("y.conclusion",), size=10)
    _tag(doc, "{%p else %}")
    _para(doc, "{{ gaps.years_text }}", size=11, indent=24, line=20)
    _tag(doc, "{%p endif %}")

    _para(doc, "五、未收入档案包的文件", size=12, font=TITLE_FONT, before=10, after=4)
    _tag(doc, "{%p if exceptions %}")
    _loop_table(doc, ["序号", "来源文件", "原　因"], ["loop.index", "ex.source", "ex.reason"], [1.4, 7.6, 7.0],
                "ex in exceptions", left=("ex.source", "ex.reason"))
    _tag(doc, "{%p else %}")
    _para(doc, "来源中的文件均已收入档案包。", size=11, indent=24)
    _tag(doc, "{%p endif %}")

    _para(doc, "六、待人工复核的归类", size=12, font=TITLE_FONT, before=10, after=4)
    _tag(doc, "{%p if review_items %}")
    _loop_table(doc, ["序号", "题名", "归入类目", "理由"], ["it.seq_text", "it.title_text", "it.category_text", "it.reason"],
                [1.4, 6.0, 3.6, 5.0], "it in review_items", left=("it.title_text", "it.category_text", "it.reason"))
    _tag(doc, "{%p else %}")
    _para(doc, "无。", size=11, indent=24)
    _tag(doc, "{%p endif %}")
    return _save(doc, "gap_report.docx")


def build_verify_report() -> Path:
    """四性检测报告 (DA/T 70): written by ``dossier verify --report``."""
    doc = Document()
    _base(doc, title="档案包四性检测报告")
    _title(doc, "档案包四性检测报告", size=18, after=10)
    rows = [
        ("档案包", "{{ report.bundle_name }}"),
        ("案卷档号", "{{ report.archival_code }}"),
        ("单位 / 离任领导", "{{ report.unit }} {{ report.leader }}"),
        ("格式版本", "{{ report.format_version }}"),
        ("档案包 SHA-256", "{{ report.sha256 }}"),
        ("检测时间", "{{ report.checked_at }}"),
        ("检测工具", "{{ report.tool }}"),
        ("检测结论", "{{ report.verdict }}"),
    ]
    table = _table(doc, len(rows), [3.6, 12.4])
    for row, (label, value) in zip(table.rows, rows, strict=True):
        _cell(row.cells[0], label, size=10, font=TITLE_FONT)
        _cell(row.cells[1], value, size=9, align=LEFT)
        _row_height(row, 0.8)
    _para(doc, "一、检测结果汇总", size=12, font=TITLE_FONT, before=10, after=4)
    _loop_table(doc, ["检测性质", "检测项数", "通过", "未通过", "结论"],
                ["p.name", "p.total", "p.passed", "p.failed", "p.verdict"], [3.2, 2.8, 2.6, 2.6, 4.8], "p in properties",
                size=10)
    _para(doc, "二、未通过的检测项", size=12, font=TITLE_FONT, before=10, after=4)
    _tag(doc, "{%p if failures %}")
    _loop_table(doc, ["性质", "检测项", "对象", "说明"], ["c.property_name", "c.check_name", "c.item", "c.message"],
                [1.6, 4.0, 5.0, 5.4], "c in failures", left=("c.check_name", "c.item", "c.message"), size=8.5)
    _tag(doc, "{%p else %}")
    _para(doc, "无。全部检测项均通过。", size=11, indent=24)
    _tag(doc, "{%p endif %}")
    _para(doc, "三、档案包整体检测项", size=12, font=TITLE_FONT, before=10, after=4)
    _loop_table(doc, ["性质", "检测项", "结果", "说明"], ["c.property_name", "c.check_name", "c.result", "c.message"],
                [1.6, 4.6, 1.4, 8.4], "c in bundle_checks", left=("c.check_name", "c.message"), size=8.5)
    _para(doc, "四、逐件检测结果", size=12, font=TITLE_FONT, before=10, after=4)
    _loop_table(doc, ["序号", "文件", "真实性", "完整性", "可用性", "安全性"],
                ["f.seq", "f.path", "f.authenticity", "f.integrity", "f.usability", "f.security"],
                [1.3, 8.3, 1.6, 1.6, 1.6, 1.6], "f in files", left=("f.path",), size=8.5)
    _para(doc, "注：“✓”通过，“✗”未通过，“—”不适用。检测依据 DA/T 70-2018《文书类电子档案检测一般要求》的真实性、完整性、"
          "可用性、安全性要求；摘要算法 SHA-256 与 SM3（GB/T 32905）。", size=8.5, before=4)
    _para(doc, "", after=16)
    people = _table(doc, 1, [8.0, 8.0], borders=False)
    _cell(people.rows[0].cells[0], "检测人：＿＿＿＿＿＿＿＿", size=11, align=LEFT)
    _cell(people.rows[0].cells[1], "审核人：＿＿＿＿＿＿＿＿", size=11, align=LEFT)
    return _save(doc, "verify_report.docx")


BUILDERS = (build_cover, build_catalogue, build_public_catalogue, build_certificate, build_transfer_list,
            build_reference_table, build_gap_report, build_verify_report)


if __name__ == "__main__":
    for build in BUILDERS:
        print("wrote", build())
