"""The rendered documents: what each one says, the fonts the templates ask for, the PDF
renditions (PDF/A, CJK fonts embedded, fixed dates, byte-identical on re-rendering)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from handover_dossier.bundle.pdfrender import convert_to_pdf, normalize_pdf
from handover_dossier.bundle.render import (
    DOCUMENTS,
    TemplateError,
    bundle_context,
    render_documents,
    render_docx,
)
from handover_dossier.inventory import default_inventory
from handover_dossier.runtime.resources import templates_dir
from support.bundletools import WHEN, read_members

CATALOGUE_COLUMNS = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]


@pytest.fixture()
def members(good_bundle: Path) -> dict[str, bytes]:
    return read_members(good_bundle)[1]


@pytest.fixture()
def index(members: dict[str, bytes]) -> dict:
    return json.loads(members["data/index.json"])


def _doc(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def _text(d) -> str:
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def test_catalogue_has_da_t_22_columns_and_one_row_per_item(members, index) -> None:
    d = _doc(members["data/01-卷内目录.docx"])
    table = d.tables[0]
    assert [c.text for c in table.rows[0].cells] == CATALOGUE_COLUMNS
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(rows) == len(index["items"])
    for row, it in zip(rows, index["items"], strict=True):
        assert row[0] == f"{it['seq']:04d}"
        assert row[1] == it["archival_code"]
        assert row[4] == it["title"]
        assert row[5] == it["date"].replace("-", "")
        assert row[6] == it["secrecy"]
    assert [r[0] for r in rows] == [f"{n:04d}" for n in range(1, len(rows) + 1)]
    text = _text(d)
    assert "云溪县交通运输局" in text and "任期 2021-01-04 至 2023-12-29" in text
    assert "~$草稿.docx —— Office 临时锁定文件" in text  # exceptions listed under the table
    header_repeats = table.rows[0]._tr.trPr.find(qn("w:tblHeader"))
    assert header_repeats is not None


def test_certificate_lists_categories_gaps_and_signature_blocks(members, index) -> None:
    d = _doc(members["data/02-交接书.docx"])
    text = _text(d)
    assert "领导干部离任工作交接书" in text
    assert "局长陈立华同志" in text and "由周明远同志接任" in text
    cats = d.tables[0]
    rows = {r.cells[0].text: (r.cells[2].text, r.cells[3].text) for r in cats.rows[1:]}
    assert rows["C1"] == ("4", "") and rows["C3"] == ("0", "缺") and rows["P2"] == ("0", "交接书由本档案包生成，签署后归入")
    assert rows["合计"][0] == str(len(index["items"]))
    for f in index["gaps"]["findings"]:
        assert f["message"] in text
    sig = d.tables[1]
    roles = [r.cells[0].text.replace("\n", "") for r in sig.rows[1:]]
    assert roles == ["移交人（离任领导）", "接交人（接任领导）", "监交人（组织部门）", "监交人（纪检监察机关）",
                     "监交人（财政部门）", "监交人（审计机关）"]
    assert all("年　月　日" in r.cells[3].text for r in sig.rows[1:])
    assert sig.rows[1].cells[1].text == "局长 陈立华" and sig.rows[2].cells[1].text == "周明远"


def test_cover_reference_table_transfer_list_gap_report(members, index) -> None:
    cover = _text(_doc(members["data/00-封面.docx"]))
    for expected in ("领导干部离任交接档案", "云溪县交通运输局", "陈立华", "局长", "周明远", "2021-01-04 至 2023-12-29",
                     "2021-01-20 至 2024-02-01", f"{len(index['items'])} 件", "永久", index["bundle"]["archival_code"]):
        assert expected in cover, expected
    ref = _text(_doc(members["data/05-备考表.docx"]))
    assert f"本卷共有文件 {len(index['items'])} 件" in ref and "内容相同的文件 1 件" in ref
    assert "王档案" in ref and "李审核" in ref and "2024年1月15日" in ref
    transfer = _doc(members["data/03-移交清单.docx"])
    assert len(transfer.tables[0].rows) == len(index["items"]) + 1
    assert transfer.tables[0].rows[1].cells[7].text == index["items"][0]["sha256"][:16]
    assert "移交人：" in _text(transfer) and "接交人：" in _text(transfer)
    gaps = _text(_doc(members["data/04-缺项与问题报告.docx"]))
    for heading in ("一、清单类目缺项", "二、离任（经济责任）审计", "三、材料的全面性", "四、任期各年度的工作计划和工作总结",
                    "五、未收入档案包的文件", "六、待人工复核的归类"):
        assert heading in gaps
    assert "已收入离任（经济责任）审计材料（P1）" in gaps
    assert "C3" in gaps and "讲话材料" in gaps


def test_templates_set_east_asian_fonts() -> None:
    for doc in DOCUMENTS:
        d = docx.Document(str(templates_dir() / doc.template))
        normal = d.styles["Normal"].element.rPr.rFonts
        assert normal.get(qn("w:eastAsia")) == "宋体", doc.template
        for run in (r for p in d.paragraphs for r in p.runs if r.text.strip()):
            fonts = run._element.rPr.rFonts
            assert fonts.get(qn("w:eastAsia")) in ("宋体", "黑体"), (doc.template, run.text)


def test_traditional_rendering(index, tmp_path: Path) -> None:
    out = tmp_path / "c.docx"
    render_docx("catalogue.docx", bundle_context(index, default_inventory()), out, when=WHEN, lang="zh-Hant")
    text = _text(docx.Document(str(out)))
    assert "卷 內 目 錄" in text and "檔號" in text and "雲溪縣交通運輸局" in text
    with zipfile.ZipFile(out) as zf:
        footer = zf.read("word/footer1.xml").decode()
    assert "頁" in footer and "页" not in footer


def test_rendering_is_deterministic(index, tmp_path: Path, members) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    docs_a = render_documents(index, default_inventory(), a, when=WHEN)
    render_documents(index, default_inventory(), b, when=WHEN)
    for doc, path, _ in docs_a:
        assert path.read_bytes() == (b / path.name).read_bytes(), doc.stem
    with zipfile.ZipFile(docs_a[0][1]) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2024, 1, 15, 8, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert "2024-01-15T08:00:00Z" in core


def test_template_errors_are_reported_in_chinese(tmp_path: Path, monkeypatch) -> None:
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    d = docx.Document()
    d.add_paragraph("{{ bundle.unit ")  # unclosed tag: what a slip in Word produces
    d.save(str(tpl / "cover.docx"))
    monkeypatch.setenv("DOSSIER_TEMPLATES", str(tpl))
    with pytest.raises(TemplateError, match=r"模板 cover\.docx 渲染失败"):
        render_docx("cover.docx", {"bundle": {}}, tmp_path / "x.docx", when=WHEN)
    with pytest.raises(TemplateError, match="找不到模板文件"):
        render_docx("nope.docx", {}, tmp_path / "y.docx", when=WHEN)


def test_pdf_renditions_are_pdfa_with_cjk_fonts_and_fixed_dates(members) -> None:
    from pypdf import PdfReader

    for doc in DOCUMENTS:
        data = members[f"data/{doc.stem}.pdf"]
        reader = PdfReader(io.BytesIO(data))
        assert reader.metadata["/CreationDate"].startswith("D:20240115080000")
        xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
        assert "<pdfaid:part>2</pdfaid:part>" in xmp and "2024-01-15T08:00:00" in xmp
        fonts = set()
        for page in reader.pages:
            for f in (page["/Resources"].get("/Font") or {}).values():
                fonts.add(str(f.get_object()["/BaseFont"]))
        assert any("NotoSerifCJK" in f for f in fonts), (doc.stem, fonts)
        assert not any("DejaVu" in f for f in fonts), (doc.stem, fonts)
    cat = PdfReader(io.BytesIO(members["data/01-卷内目录.pdf"]))
    text = "".join(p.extract_text() for p in cat.pages)
    assert "卷" in text and "云溪县交通运输局" in text and "Z109-2023-Y-0001" in text


def test_pdf_is_byte_identical_when_rendered_again(members, tmp_path: Path, monkeypatch) -> None:
    """A second LibreOffice run (another process, another profile) on the same document
    with the same time gives the same bytes as the bundle's own rendition."""
    monkeypatch.setenv("DOSSIER_PDF", "1")
    src = tmp_path / "02-交接书.docx"
    src.write_bytes(members["data/02-交接书.docx"])
    pdf = convert_to_pdf([src], tmp_path / "pdf", when=WHEN)[src]
    assert pdf.read_bytes() == members["data/02-交接书.pdf"]


def test_pdf_pages_render_to_png(members, tmp_path: Path) -> None:
    from PIL import Image

    pdf = tmp_path / "cat.pdf"
    pdf.write_bytes(members["data/02-交接书.pdf"])
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "p")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 1
    with Image.open(pages[0]) as im:
        gray = im.convert("L")
        dark = sum(gray.histogram()[:128])
        assert abs(im.size[0] - 496) <= 1 and abs(im.size[1] - 702) <= 1  # A4 portrait at 60 dpi
        assert dark > 2000  # text and table lines, not a blank page


def test_normalize_pdf_fallback_for_other_producers(tmp_path: Path) -> None:
    """PDFs not laid out like LibreOffice's (e.g. reportlab's) are rewritten with fixed dates."""
    from handover_dossier.samplecorpus.docgen import write_pdf
    from pypdf import PdfReader

    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_pdf(a, "测试", ["正文"], when=datetime(2020, 5, 1, 9, 0))
    shutil.copy(a, b)
    normalize_pdf(a, datetime(2024, 6, 1, tzinfo=UTC))
    normalize_pdf(b, datetime(2024, 6, 1, tzinfo=UTC))
    assert a.read_bytes() == b.read_bytes()
    assert PdfReader(str(a)).metadata["/ModDate"].startswith("D:20240601000000")


# --------------------------------------------------------------------------- long lists
def _many(index: dict, n: int) -> dict:
    """``index`` with its items repeated up to ``n`` rows (distinct sequence numbers)."""
    base = index["items"]
    items = []
    for k in range(n):
        it = dict(base[k % len(base)])
        it["seq"] = k + 1
        it["title"] = f"{it['title']}（第{k + 1}件）"
        items.append(it)
    return {**index, "items": items}


def _rows(path: Path) -> list[list[str]]:
    table = docx.Document(str(path)).tables[0]
    return [[c.text for c in r.cells] for r in table.rows]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_long_lists_are_streamed_chunk_by_chunk_with_the_same_rows(index, tmp_path: Path, monkeypatch, lang) -> None:
    import handover_dossier.bundle.render as render

    big = _many(index, 57)
    ctx = bundle_context(big, default_inventory())
    whole, streamed = tmp_path / "whole.docx", tmp_path / "streamed.docx"
    render_docx("catalogue.docx", ctx, whole, when=WHEN, lang=lang, rows="items")  # 57 < ROW_CHUNK
    calls = []
    real = render._load
    monkeypatch.setattr(render, "_load", lambda t: calls.append(t) or real(t))
    monkeypatch.setattr(render, "ROW_CHUNK", 10)
    render_docx("catalogue.docx", ctx, streamed, when=WHEN, lang=lang, rows="items")
    assert len(calls) == 1 + 5  # the document with the first 10 rows, then 5 more chunks
    rows = _rows(streamed)
    assert rows == _rows(whole)
    assert [r[0] for r in rows[1:]] == [f"{n:04d}" for n in range(1, 58)]
    assert _text(docx.Document(str(streamed))) == _text(docx.Document(str(whole)))  # text after the table too
    with zipfile.ZipFile(streamed) as zf:
        assert zf.testzip() is None
        assert {i.date_time for i in zf.infolist()} == {(2024, 1, 15, 8, 0, 0)}
        assert "HD-ROWS" not in zf.read("word/document.xml").decode()
    again = tmp_path / "again.docx"
    render_docx("catalogue.docx", ctx, again, when=WHEN, lang=lang, rows="items")
    assert again.read_bytes() == streamed.read_bytes()  # still deterministic


def test_a_row_numbered_by_the_loop_is_rendered_whole(index, tmp_path: Path, monkeypatch) -> None:
    """A user's template that numbers rows with ``loop.index`` cannot be chunked (the
    numbers would restart): it is rendered in one piece, numbers intact."""
    import handover_dossier.bundle.render as render

    tpl = tmp_path / "tpl"
    tpl.mkdir()
    d = docx.Document()
    d.add_paragraph("目录")
    t = d.add_table(rows=3, cols=2)
    t.cell(0, 0).text = "{%tr for it in items %}"
    t.cell(1, 0).text = "{{ loop.index }}"
    t.cell(1, 1).text = "{{ it.title }}"
    t.cell(2, 0).text = "{%tr endfor %}"
    d.save(str(tpl / "catalogue.docx"))
    monkeypatch.setenv("DOSSIER_TEMPLATES", str(tpl))
    monkeypatch.setattr(render, "ROW_CHUNK", 5)
    out = tmp_path / "c.docx"
    render_docx("catalogue.docx", bundle_context(_many(index, 12), default_inventory()), out, when=WHEN, rows="items")
    assert [r[0] for r in _rows(out)] == [str(n) for n in range(1, 13)]
