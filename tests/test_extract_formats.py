"""Extraction per format: text and metadata from real files of each kind.

Documents come from ``handover_dossier.samplecorpus.docgen`` (DOCX, PDF, XLSX, TXT) or are built here
with the format's own structure (OFD as a zip of XML, scans rendered with a CJK font,
encrypted PDFs with pypdf, a .doc converted by the installed LibreOffice).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from handover_dossier.extract import ExtractionError, Limits, extract_document
from handover_dossier.extract.ocr import clean_ocr_text
from handover_dossier.extract.text import decode_text
from handover_dossier.samplecorpus import docgen

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


@pytest.fixture(autouse=True)
def _no_pdf_renditions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs here are about extraction and classification: skip the LibreOffice PDF copies
    of the catalogue (covered by the assemble tests), which cost seconds per run."""
    monkeypatch.setenv("DOSSIER_PDF", "0")

BODY = [
    "一年来，在县委、县政府的坚强领导下，我局认真贯彻落实各项决策部署，圆满完成了全年目标任务。",
    "一、主要工作成效",
    "全年完成交通固定资产投资12.6亿元，同比增长8.3%，新改建农村公路126公里。",
]


# --------------------------------------------------------------------------- DOCX / PDF / XLSX
def test_docx_body_tables_headers_and_official_metadata(tmp_path: Path) -> None:
    p = docgen.write_docx(
        tmp_path / "总结.docx",
        "榆川县交通运输局2023年工作总结",
        BODY,
        issuer="榆川县交通运输局",
        doc_number="榆交发〔2023〕12号",
        date_text="二〇二三年十二月二十日",
        secrecy="秘密",
        tables=[[["项目", "完成值"], ["农村公路", "126公里"]]],
        header_text="榆川县交通运输局",
    )
    ex = extract_document(p, p.name)
    assert ex.format == "docx"
    assert ex.title == "榆川县交通运输局2023年工作总结"
    assert ex.doc_number == "榆交发〔2023〕12号"
    assert ex.date == "2023-12-20"
    assert ex.secrecy == "秘密"
    assert ex.responsible == "榆川县交通运输局"
    assert "农村公路\t126公里" in ex.text  # table rows keep their cells apart
    assert "圆满完成了全年目标任务" in ex.text
    assert ex.meta["header"] == "榆川县交通运输局"
    assert ex.meta["author"] == "榆川县交通运输局"
    assert ex.pages == 1 and not ex.needs_review


def test_long_docx_reads_only_the_beginning(tmp_path: Path) -> None:
    p = docgen.write_docx(tmp_path / "长.docx", "榆川县2023年工作报告", BODY * 400)
    ex = extract_document(p, p.name, Limits(max_chars=3000))
    assert len(ex.text) == 3000
    assert ex.text.startswith("榆川县2023年工作报告")
    assert ex.pages > 10  # estimated from the part size, not from the text read


def test_text_pdf(tmp_path: Path) -> None:
    p = docgen.write_pdf(
        tmp_path / "要点.pdf", "北洺市统计局2024年工作要点", BODY * 30, issuer="北洺市统计局",
        doc_number="北统发〔2024〕3号", date_text="二〇二四年二月十八日",
    )
    ex = extract_document(p, p.name)
    assert ex.format == "pdf"
    assert ex.title == "北洺市统计局2024年工作要点"
    assert ex.doc_number == "北统发〔2024〕3号"
    assert ex.pages >= 3
    assert "圆满完成了全年目标任务" in ex.text
    assert not ex.needs_review


def test_xlsx_sheets_and_header_rows(tmp_path: Path) -> None:
    p = docgen.write_xlsx(
        tmp_path / "台账.xlsx",
        {"固定资产": [["榆川县交通运输局固定资产台账"], ["资产编号", "名称", "原值"], ["ZC-001", "办公电脑", 5600.0]],
         "车辆": [["车牌", "品牌"], ["云A12345", "大众"]]},
    )
    ex = extract_document(p, p.name)
    assert ex.format == "xlsx"
    assert ex.title == "榆川县交通运输局固定资产台账"
    assert "【固定资产】" in ex.text and "【车辆】" in ex.text
    assert "资产编号\t名称\t原值" in ex.text
    assert ex.meta["sheets"] == "固定资产、车辆"


# --------------------------------------------------------------------------- text encodings
@pytest.mark.parametrize(
    ("encoding", "expected", "traditional"),
    [("utf-8", "utf-8", False), ("utf-8-sig", "utf-8-sig", False), ("gbk", "gb18030", False),
     ("gb18030", "gb18030", False), ("big5", "big5", True)],
)
def test_text_in_common_chinese_encodings(tmp_path: Path, encoding: str, expected: str, traditional: bool) -> None:
    title = "梅嶺鎮2023年財政收入完成情況" if traditional else "梅岭镇2023年财政收入完成情况"
    body = ["全鎮一般公共預算收入完成3.2億元，同比增長6.1%。"] if traditional else [
        "全镇一般公共预算收入完成3.2亿元，同比增长6.1%。"]
    p = docgen.write_txt(tmp_path / f"{encoding}.txt", title, body, encoding=encoding)
    ex = extract_document(p, p.name)
    assert ex.encoding == expected
    assert ex.text.startswith(title)
    assert body[0] in ex.text


def test_short_gbk_and_big5_are_told_apart() -> None:
    # Each decodes without error as the other; only the characters tell them apart.
    for text, enc, label in (("债权债务明细表", "gbk", "gb18030"), ("債權債務明細表", "big5", "big5"),
                             ("固定资产清单", "gbk", "gb18030"), ("固定資產清單", "big5", "big5")):
        decoded, found = decode_text(text.encode(enc))
        assert (decoded, found) == (text, label)


def test_utf8_cut_inside_a_character_still_decodes() -> None:
    data = "交接书".encode()[:-1]
    assert decode_text(data) == ("交接", "utf-8")


# --------------------------------------------------------------------------- OFD
_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _write_ofd(path: Path, pages: list[list[str]], *, title: str = "", absolute: bool = False,
               doc_dir: str = "Doc_0") -> Path:
    """A minimal valid OFD (GB/T 33190): OFD.xml -> Document.xml -> Pages/Page_N/Content.xml."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {_NS} Version="1.0" DocType="OFD"><ofd:DocBody>'
            f"<ofd:DocInfo><ofd:DocID>6f1a</ofd:DocID><ofd:Title>{title}</ofd:Title><ofd:Author>榆川县财政局</ofd:Author>"
            "<ofd:CreationDate>2023-03-06</ofd:CreationDate><ofd:Keywords><ofd:Keyword>决算</ofd:Keyword></ofd:Keywords>"
            '<ofd:CustomDatas><ofd:CustomData Name="发文机关">榆川县财政局</ofd:CustomData></ofd:CustomDatas>'
            f"</ofd:DocInfo><ofd:DocRoot>{doc_dir}/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        refs = "".join(
            f'<ofd:Page ID="{i + 1}" BaseLoc="{"/" + doc_dir + "/" if absolute else ""}Pages/Page_{i}/Content.xml"/>'
            for i in range(len(pages))
        )
        z.writestr(
            f"{doc_dir}/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {_NS}><ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID>'
            "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>"
            f"<ofd:Pages>{refs}</ofd:Pages></ofd:Document>",
        )
        for i, lines in enumerate(pages):
            objs = []
            for j, line in enumerate(lines):
                # Each line split over two TextObjects on the same baseline, as producers do.
                half = max(1, len(line) // 2)
                for k, part in enumerate((line[:half], line[half:])):
                    if part:
                        objs.append(
                            f'<ofd:TextObject ID="{100 * i + 10 * j + k}" Boundary="{25 + 60 * k} {35 + 9 * j} 120 8" '
                            f'Font="3" Size="5.6"><ofd:TextCode X="0" Y="5.6" DeltaX="g {len(part) - 1} 5.6">{part}'
                            "</ofd:TextCode></ofd:TextObject>"
                        )
            z.writestr(
                f"{doc_dir}/Pages/Page_{i}/Content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {_NS}><ofd:Content><ofd:Layer ID="2">'
                + "".join(objs) + "</ofd:Layer></ofd:Content></ofd:Page>",
            )
    return path


def test_ofd_text_and_docinfo(tmp_path: Path) -> None:
    p = _write_ofd(
        tmp_path / "决算.ofd",
        [["榆川县财政局文件", "榆财发〔2023〕7号", "关于2022年度部门决算的报告", "2022年度部门决算收入合计1200万元。"],
         ["基本支出860万元，项目支出340万元。", "榆川县财政局", "二〇二三年三月五日"]],
    )
    ex = extract_document(p, p.name)
    assert ex.format == "ofd"
    assert ex.pages == 2
    assert ex.text.splitlines()[:3] == ["榆川县财政局文件", "榆财发〔2023〕7号", "关于2022年度部门决算的报告"]
    assert "基本支出860万元，项目支出340万元。" in ex.text  # one line, rebuilt from two text objects
    assert ex.title == "关于2022年度部门决算的报告"
    assert ex.doc_number == "榆财发〔2023〕7号"
    assert ex.date == "2023-03-05"  # 成文日期 in Chinese numerals, not the file's creation date
    assert ex.responsible == "榆川县财政局"
    assert ex.meta["author"] == "榆川县财政局"
    assert ex.meta["keywords"] == "决算"
    assert ex.meta["custom:发文机关"] == "榆川县财政局"


def test_ofd_with_absolute_page_paths_and_docinfo_title(tmp_path: Path) -> None:
    p = _write_ofd(tmp_path / "x.ofd", [["在全县经济工作会议上的讲话", "同志们："]], title="县长讲话", absolute=True,
                   doc_dir="doc_1")
    ex = extract_document(p, p.name)
    assert ex.meta["title"] == "县长讲话"
    # 题名 is the document's own 标题; the DocInfo title is a fallback for documents without one
    assert ex.title == "在全县经济工作会议上的讲话"
    assert "同志们：" in ex.text


def test_ofd_without_pages_or_docroot_is_an_exception(tmp_path: Path) -> None:
    p = _write_ofd(tmp_path / "empty.ofd", [])
    with pytest.raises(ExtractionError) as err:
        extract_document(p, p.name)
    assert err.value.kind == "empty"
    broken = tmp_path / "broken.ofd"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("OFD.xml", f"<ofd:OFD {_NS}><ofd:DocBody/></ofd:OFD>")
    with pytest.raises(ExtractionError) as err:
        extract_document(broken, broken.name)
    assert err.value.kind == "corrupt" and "DocRoot" in err.value.reason


# --------------------------------------------------------------------------- scans and OCR
def _scan_image(lines: list[str]):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(CJK_FONT, 44)
    img = Image.new("L", (1654, 140 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((120, 80 + 80 * i), line, font=font, fill=0)
    return img


SCAN_LINES = ["北洺市林业和草原局", "2023年工作总结", "一年来，我局认真贯彻落实", "各项工作取得了明显成效。"]


def _scanned_pdf(path: Path) -> Path:
    _scan_image(SCAN_LINES).save(path, "PDF", resolution=200.0)
    return path


def test_scanned_pdf_is_read_with_ocr(tmp_path: Path) -> None:
    p = _scanned_pdf(tmp_path / "扫描件0001.pdf")
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(p))
    assert doc[0].get_textpage().get_text_range().strip() == ""  # really no text layer
    doc.close()
    ex = extract_document(p, p.name)
    assert "工作总结" in ex.text and "取得了明显成效" in ex.text
    assert ex.title.endswith("2023年工作总结")
    assert any("文字识别" in n for n in ex.notes)
    assert not ex.needs_review


def test_image_is_read_with_ocr(tmp_path: Path) -> None:
    p = tmp_path / "IMG_0001.png"
    _scan_image(SCAN_LINES).save(p)
    ex = extract_document(p, p.name)
    assert ex.format == "image"
    assert "工作总结" in ex.text


def test_scan_without_any_ocr_engine_stays_an_item_for_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_TESSERACT", "")  # as on a machine without tesseract-ocr ...
    monkeypatch.setenv("DOSSIER_RAPIDOCR", "0")  # ... and without RapidOCR
    p = _scanned_pdf(tmp_path / "2023年工作总结.pdf")
    ex = extract_document(p, p.name)
    assert ex.needs_review
    assert ex.text == ""
    assert any("未安装文字识别引擎" in n for n in ex.notes)
    assert ex.title == "2023年工作总结"  # from the name, for classification by name


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_each_recogniser_reads_a_scan_and_the_other_is_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    engine: str) -> None:
    from handover_dossier.extract.ocr import ocr_pdf

    p = _scanned_pdf(tmp_path / "扫描件0002.pdf")
    monkeypatch.setenv("DOSSIER_OCR", engine)
    res = ocr_pdf(p, Limits())
    assert res.engine == engine and "工作总结" in res.text
    # the chosen recogniser missing: the other one reads it
    if engine == "rapidocr":
        monkeypatch.setenv("DOSSIER_RAPIDOCR", "0")
    else:
        monkeypatch.setenv("DOSSIER_TESSERACT", "")
    other = ocr_pdf(p, Limits())
    assert other.engine != engine and "工作总结" in other.text


def test_a_rotated_scan_is_turned_straight(tmp_path: Path) -> None:
    from handover_dossier.extract.ocr import ocr_image

    img = _scan_image(SCAN_LINES).rotate(-1.6, expand=True, fillcolor=255)
    p = tmp_path / "IMG_0002.png"
    img.save(p)
    res = ocr_image(p, Limits())
    assert 1.3 <= abs(res.angles[0]) <= 1.9
    assert "取得了明显成效" in res.text


def test_ocr_text_cleanup() -> None:
    assert clean_ocr_text("工 作 总 结\n\n2023 年  度\f第二页") == "工作总结\n2023 年度\n第二页"


# --------------------------------------------------------------------------- encrypted PDFs
def _encrypted(src: Path, dest: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(str(src)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    with open(dest, "wb") as f:
        writer.write(f)
    return dest


def test_encrypted_pdfs(tmp_path: Path) -> None:
    plain = docgen.write_pdf(tmp_path / "plain.pdf", "2023年度部门决算", ["本年收入合计1200万元。"])
    locked = _encrypted(plain, tmp_path / "locked.pdf", "s3cret")
    with pytest.raises(ExtractionError) as err:
        extract_document(locked, locked.name)
    assert err.value.kind == "encrypted"
    assert "加密" in err.value.reason and "s3cret" not in err.value.reason
    open_pdf = _encrypted(plain, tmp_path / "open.pdf", "")
    ex = extract_document(open_pdf, open_pdf.name)
    assert ex.title == "2023年度部门决算"
    assert "本年收入合计1200万元" in ex.text


# --------------------------------------------------------------------------- legacy formats
def _soffice_convert(src: Path, target: str, outdir: Path) -> Path:
    import subprocess

    from handover_dossier.runtime.tools import soffice_path as soffice_binary

    binary = soffice_binary()
    assert binary, "LibreOffice is installed by .ci/run"
    subprocess.run(
        [binary, f"-env:UserInstallation={(outdir / 'profile').as_uri()}", "--headless", "--convert-to", target,
         "--outdir", str(outdir), str(src)],
        check=True, capture_output=True, timeout=120,
    )
    return outdir / f"{src.stem}.{target}"


@pytest.fixture(scope="module")
def legacy_doc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Word 97 .doc made from a DOCX by the installed LibreOffice."""
    tmp = tmp_path_factory.mktemp("doc")
    src = docgen.write_docx(
        tmp / "述职报告.docx", "榆川县农业农村局局长述职报告", BODY, issuer="榆川县农业农村局",
        date_text="二〇二三年十二月二十八日",
    )
    doc = _soffice_convert(src, "doc", tmp)
    assert doc.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file
    return doc


def test_doc_is_converted_with_libreoffice(legacy_doc: Path) -> None:
    ex = extract_document(legacy_doc, "述职报告.doc")
    assert ex.format == "doc"
    assert ex.title == "榆川县农业农村局局长述职报告"
    assert ex.date == "2023-12-28"
    assert "圆满完成了全年目标任务" in ex.text
    assert any("LibreOffice" in n for n in ex.notes)


def test_doc_without_libreoffice_names_the_tool(legacy_doc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_SOFFICE", "")  # as on a machine without LibreOffice
    with pytest.raises(ExtractionError) as err:
        extract_document(legacy_doc, "述职报告.wps")
    assert err.value.kind == "needs-tool"
    assert "LibreOffice" in err.value.reason


def test_scan_without_ocr_in_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handover_dossier.pipeline import assemble

    monkeypatch.setenv("DOSSIER_TESSERACT", "")
    monkeypatch.setenv("DOSSIER_RAPIDOCR", "0")
    src = tmp_path / "src"
    src.mkdir()
    _scanned_pdf(src / "2023年度部门决算.pdf")
    docgen.write_txt(src / "交接书.txt", "工作交接书", ["移交人：张三；接交人：李四；监交人：王五。"])
    items = {it["source"]: it for it in assemble(src, tmp_path / "b.zip", workers=1).index["items"]}
    scan = items["2023年度部门决算.pdf"]
    assert scan["code"] == "C6"  # by its name
    assert scan["needs_review"] is True
    assert "未安装文字识别引擎" in scan["reason"]
    assert items["交接书.txt"]["needs_review"] is False


def test_traditional_scan_is_read_with_the_traditional_model(tmp_path: Path) -> None:
    """The Simplified model reads first; on a Traditional page its confidence is low, so the
    Traditional model reads it again and its (more confident) text is kept."""
    lines = ["雲溪縣交通運輸局", "二〇二三年工作總結", "本局在任期內認真貫徹落實上級決策部署，", "圓滿完成各項目標任務。"]
    p = tmp_path / "掃描件0002.pdf"
    _scan_image(lines).save(p, "PDF", resolution=200.0)
    ex = extract_document(p, p.name)
    assert "工作總結" in ex.text and "貫徹落實" in ex.text
    assert not ex.needs_review
