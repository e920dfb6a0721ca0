"""Tests for handover_dossier.samplecorpus.docgen: layout, text round-trips and byte determinism."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import docx
import openpyxl
import pdfplumber
import pypdfium2 as pdfium
import pytest
from handover_dossier.samplecorpus import docgen

WHEN = datetime(2023, 3, 5, 10, 0, 0)  # naive = China time
TITLE = "关于印发云溪县交通运输局2023年工作计划的通知"
ISSUER = "云溪县交通运输局"
DOC_NO = "云交发〔2023〕12号"
PARAS = [
    "一、总体要求",
    "2023年是全面贯彻落实党的二十大精神的开局之年。全县交通运输工作要坚持稳中求进，力争全年完成交通建设投资12.5亿元，"
    "新改建农村公路60公里，改造危桥8座，城乡公交一体化率保持100%。",
    "（一）加快构建综合交通网络。G320线云溪段改建工程完成竣工验收，S218线城区过境段改线工程完成路基工程量的70%。",
    "二、保障措施",
    "各股室、局属各单位要对照本计划制定具体措施，明确责任人和时间节点，确保各项任务按期完成。",
]
TRAD_PARAS = [
    "各位來賓，女士們、先生們：金秋十月，我們在美麗的雲溪河畔舉辦海峽兩岸交通物流合作交流會。",
    "臺灣在現代物流管理、冷鏈技術和智慧倉儲方面累積了豐富經驗，兩岸物流業合作潛力巨大、前景廣闊。",
]


def _flat(text: str) -> str:
    return "".join(text.split())


def _pdf_text(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    try:
        return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def _pdf_pages(data: bytes) -> int:
    pdf = pdfium.PdfDocument(data)
    try:
        return len(pdf)
    finally:
        pdf.close()


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("d", "plain", "numerals"),
    [
        (date(2023, 3, 5), "2023年3月5日", "二〇二三年三月五日"),
        (date(2019, 10, 10), "2019年10月10日", "二〇一九年十月十日"),
        (date(2024, 12, 31), "2024年12月31日", "二〇二四年十二月三十一日"),
        (date(2020, 11, 20), "2020年11月20日", "二〇二〇年十一月二十日"),
        (date(2021, 6, 19), "2021年6月19日", "二〇二一年六月十九日"),
    ],
)
def test_chinese_date(d, plain, numerals):
    assert docgen.chinese_date(d) == plain
    assert docgen.chinese_date(d, numerals=True) == numerals


# --------------------------------------------------------------------------- determinism


def _write_all(folder, when=WHEN):
    return {
        "docx": docgen.write_docx(
            folder / "a.docx",
            TITLE,
            PARAS,
            issuer=ISSUER,
            doc_number=DOC_NO,
            date_text="2023年3月5日",
            secrecy="秘密",
            tables=[[["序号", "事项"], ["1", "G320线"]]],
            header_text="内部资料",
            when=when,
        ),
        "pdf": docgen.write_pdf(
            folder / "a.pdf",
            TITLE,
            PARAS,
            issuer=ISSUER,
            doc_number=DOC_NO,
            date_text="2023年3月5日",
            when=when,
        ),
        "xlsx": docgen.write_xlsx(
            folder / "a.xlsx",
            {"台账": [["固定资产台账"], ["编号", "名称", "原值"], ["A1", "电脑", 5600.0]]},
            core_title="固定资产台账",
            when=when,
        ),
        "txt": docgen.write_txt(folder / "a.txt", TITLE, PARAS, encoding="gb18030", issuer=ISSUER),
    }


def test_every_writer_is_byte_deterministic(tmp_path):
    first = _write_all(tmp_path / "one")
    second = _write_all(tmp_path / "two")
    for kind in first:
        assert first[kind].read_bytes() == second[kind].read_bytes(), kind


def test_when_changes_the_bytes(tmp_path):
    first = _write_all(tmp_path / "one")
    later = _write_all(tmp_path / "two", when=WHEN + timedelta(days=1))
    for kind in ("docx", "pdf", "xlsx"):
        assert first[kind].read_bytes() != later[kind].read_bytes(), kind


def test_default_when_is_deterministic(tmp_path):
    a = docgen.write_docx(tmp_path / "a.docx", TITLE, PARAS)
    b = docgen.write_docx(tmp_path / "b.docx", TITLE, PARAS)
    assert a.read_bytes() == b.read_bytes()


def test_writers_create_parent_folders_and_return_path(tmp_path):
    out = docgen.write_txt(tmp_path / "深" / "层" / "x.txt", TITLE, PARAS)
    assert out == tmp_path / "深" / "层" / "x.txt"
    assert out.is_file()


# --------------------------------------------------------------------------- DOCX


def test_docx_layout_follows_gbt9704(tmp_path):
    path = docgen.write_docx(
        tmp_path / "a.docx",
        TITLE,
        PARAS,
        issuer=ISSUER,
        doc_number=DOC_NO,
        date_text=docgen.chinese_date(date(2023, 3, 5), numerals=True),
        secrecy="秘密",
        when=WHEN,
    )
    d = docx.Document(str(path))
    texts = [p.text for p in d.paragraphs if p.text]
    assert texts[0] == "秘密"
    assert texts[1] == "云溪县交通运输局文件"
    assert texts[2] == DOC_NO
    assert texts[3] == TITLE
    assert texts[4 : 4 + len(PARAS)] == PARAS
    assert texts[-2:] == [ISSUER, "二〇二三年三月五日"]
    red = next(p for p in d.paragraphs if p.text == "云溪县交通运输局文件")
    assert str(red.runs[0].font.color.rgb) == "FF0000"
    title = next(p for p in d.paragraphs if p.text == TITLE)
    assert title.runs[0].font.bold is True
    assert title.alignment == 1  # centred
    # the separator line is a red bottom border on the document-number paragraph
    number = next(p for p in d.paragraphs if p.text == DOC_NO)
    assert b'w:color="FF0000"' in number._p.xml.encode() or 'w:color="FF0000"' in number._p.xml


def test_docx_without_red_header_signs_only(tmp_path):
    path = docgen.write_docx(
        tmp_path / "a.docx", "说明", ["正文。"], issuer=ISSUER, date_text="2024年6月1日", red_header=False
    )
    texts = [p.text for p in docx.Document(str(path)).paragraphs if p.text]
    assert texts == ["说明", "正文。", ISSUER, "2024年6月1日"]


def test_docx_core_properties_tables_header(tmp_path):
    path = docgen.write_docx(
        tmp_path / "a.docx",
        TITLE,
        PARAS,
        issuer=ISSUER,
        core_title="元数据标题",
        core_author="办公室",
        tables=[[["序号", "资产名称", "原值"], ["1", "台式计算机", "5600.00"]]],
        header_text="内部资料　注意保存",
        when=WHEN,
    )
    d = docx.Document(str(path))
    cp = d.core_properties
    assert cp.title == "元数据标题"
    assert cp.author == "办公室"
    expected_utc = datetime(2023, 3, 5, 2, 0, 0, tzinfo=UTC)
    assert cp.created == expected_utc
    assert cp.modified == expected_utc
    assert [[c.text for c in row.cells] for row in d.tables[0].rows] == [
        ["序号", "资产名称", "原值"],
        ["1", "台式计算机", "5600.00"],
    ]
    assert d.sections[0].header.paragraphs[0].text == "内部资料　注意保存"
    with zipfile.ZipFile(path) as z:
        assert not any("thumbnail" in n for n in z.namelist())


def test_docx_aware_when_is_converted(tmp_path):
    aware = datetime(2023, 3, 5, 2, 0, 0, tzinfo=UTC)  # == 10:00 China time
    a = docgen.write_docx(tmp_path / "a.docx", TITLE, PARAS, when=WHEN)
    b = docgen.write_docx(tmp_path / "b.docx", TITLE, PARAS, when=aware)
    assert a.read_bytes() == b.read_bytes()


def test_docx_zip_entries_are_normalized(tmp_path):
    path = docgen.write_docx(tmp_path / "a.docx", TITLE, PARAS, when=WHEN)
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    assert names[:2] == ["[Content_Types].xml", "_rels/.rels"]
    assert names[2:] == sorted(names[2:])
    assert {i.date_time for i in infos} == {(2023, 3, 5, 10, 0, 0)}


# --------------------------------------------------------------------------- PDF


def test_pdf_text_layer_round_trips(tmp_path):
    path = docgen.write_pdf(
        tmp_path / "a.pdf",
        TITLE,
        PARAS,
        issuer=ISSUER,
        doc_number=DOC_NO,
        date_text="二〇二三年三月五日",
        secrecy="机密",
        when=WHEN,
    )
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    text = _flat(_pdf_text(data))
    for piece in ["机密", "云溪县交通运输局文件", DOC_NO, TITLE, *PARAS, ISSUER, "二〇二三年三月五日"]:
        assert _flat(piece) in text, piece
    assert text.index("机密") < text.index(DOC_NO) < text.index(_flat(TITLE)) < text.index(_flat(PARAS[0]))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        plumber = "".join(_flat(page.extract_text() or "") for page in pdf.pages)
    assert plumber == text


def test_pdf_traditional_script_round_trips(tmp_path):
    title = "在海峽兩岸（雲溪）交通物流合作交流會上的致辭"
    path = docgen.write_pdf(tmp_path / "t.pdf", title, TRAD_PARAS, when=WHEN)
    text = _flat(_pdf_text(path.read_bytes()))
    assert _flat(title) in text
    for p in TRAD_PARAS:
        assert _flat(p) in text
    with pdfplumber.open(str(path)) as pdf:
        plumber = "".join(_flat(page.extract_text() or "") for page in pdf.pages)
    assert _flat(TRAD_PARAS[1]) in plumber


def test_pdf_metadata(tmp_path):
    path = docgen.write_pdf(
        tmp_path / "a.pdf", TITLE, PARAS, issuer=ISSUER, meta_title="元数据", meta_author="某人", when=WHEN
    )
    pdf = pdfium.PdfDocument(str(path))
    meta = pdf.get_metadata_dict()
    pdf.close()
    assert meta["Title"] == "元数据"
    assert meta["Author"] == "某人"
    assert meta["CreationDate"].startswith("D:20230305100000+08")
    default = docgen.write_pdf(tmp_path / "b.pdf", TITLE, PARAS, issuer=ISSUER, when=WHEN)
    pdf = pdfium.PdfDocument(str(default))
    meta = pdf.get_metadata_dict()
    pdf.close()
    assert meta["Title"] == TITLE
    assert meta["Author"] == ISSUER


def test_pdf_long_text_runs_over_pages(tmp_path):
    long = [
        f"第{i}条　" + "交通运输是国民经济中基础性、先导性、战略性产业，是重要的服务性行业。" * 4
        for i in range(1, 16)
    ]
    path = docgen.write_pdf(tmp_path / "long.pdf", TITLE, long, issuer=ISSUER, when=WHEN)
    data = path.read_bytes()
    assert _pdf_pages(data) >= 3
    text = _flat(_pdf_text(data))
    assert "—3—" in text  # page numbers in the footer
    body = re.sub(r"—\d+—", "", text)  # a paragraph may run across a page footer
    for p in long:
        assert _flat(p) in body


def test_pdf_pages_min(tmp_path):
    path = docgen.write_pdf(tmp_path / "p.pdf", TITLE, PARAS[:2], when=WHEN, pages_min=4)
    assert _pdf_pages(path.read_bytes()) >= 4
    short = docgen.write_pdf(tmp_path / "s.pdf", TITLE, PARAS[:2], when=WHEN)
    assert _pdf_pages(short.read_bytes()) == 1


def test_wrap_text_respects_width_and_kinsoku():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = (
        "交通运输是国民经济中基础性、先导性、战略性产业，“四好农村路”建设，G320线改建工程全长38.6公里。" * 6
    )
    lines = docgen.wrap_text(text, 16, 200)
    assert "".join(lines) == text
    assert len(lines) > 5
    for line in lines[:-1]:
        assert stringWidth(line.rstrip("，。、；：？！）》」』】〕”’"), docgen.PDF_FONT, 16) <= 200.01
    for line in lines[1:]:
        assert line[0] not in "，。、；：？！）》」』】〕”’"
    for line in lines[:-1]:
        assert line[-1] not in "（《「『【〔“‘"
    assert not any(line.endswith("38.") for line in lines)  # Latin runs stay whole


# --------------------------------------------------------------------------- XLSX


def test_xlsx_values_layout_and_properties(tmp_path):
    rows = [
        ["云溪县交通运输局固定资产台账"],
        ["资产编号", "资产名称", "原值（元）", "购置日期", "数量"],
        ["YXJT-2020-0001", "台式计算机", 5600.0, date(2020, 1, 3), 1],
        ["YXJT-2021-0002", "执法执勤车", 168800.0, date(2021, 3, 18), 1],
    ]
    path = docgen.write_xlsx(
        tmp_path / "a.xlsx",
        {"资产台账": rows, "说明": [["备注"], ["无"]]},
        core_title="固定资产台账",
        when=WHEN,
    )
    wb = openpyxl.load_workbook(str(path))
    assert wb.sheetnames == ["资产台账", "说明"]
    ws = wb["资产台账"]
    values = list(ws.values)
    assert values[0][0] == "云溪县交通运输局固定资产台账"
    assert values[1] == tuple(rows[1])
    assert values[2][:3] == ("YXJT-2020-0001", "台式计算机", 5600)
    assert values[2][3].date() == date(2020, 1, 3)
    assert "A1:E1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].font.b is True
    assert ws.freeze_panes == "A3"
    assert ws["C3"].number_format == "#,##0.00"
    assert wb.properties.title == "固定资产台账"
    assert wb.properties.created == datetime(2023, 3, 5, 2, 0, 0)
    assert wb.properties.modified == datetime(2023, 3, 5, 2, 0, 0)
    with zipfile.ZipFile(path) as z:
        assert {i.date_time for i in z.infolist()} == {(2023, 3, 5, 10, 0, 0)}


# --------------------------------------------------------------------------- TXT


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "big5"])
def test_txt_encodings_round_trip(tmp_path, encoding):
    big5 = encoding == "big5"
    paras = TRAD_PARAS if big5 else PARAS
    title = "致辭" if big5 else TITLE
    number = "雲交發〔2023〕12號" if big5 else DOC_NO
    path = docgen.write_txt(
        tmp_path / "a.txt", title, paras, encoding=encoding, doc_number=number, date_text="2023年3月5日"
    )
    raw = path.read_bytes()
    text = raw.decode(encoding)
    assert text.splitlines()[0] == title
    assert number in text
    for p in paras:
        assert "　　" + p in text
    assert text.rstrip("\n").endswith("2023年3月5日")
    if encoding == "utf-8-sig":
        assert raw.startswith(b"\xef\xbb\xbf")
    if encoding in ("gbk", "gb18030", "big5"):
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")


def test_txt_crlf_and_errors(tmp_path):
    path = docgen.write_txt(tmp_path / "a.txt", "标题", ["正文"], encoding="gbk", newline="\r\n")
    assert path.read_bytes() == "标题\r\n\r\n　　正文\r\n".encode("gbk")
    with pytest.raises(UnicodeEncodeError):  # 们 has no Big5 code point: no silent '?'
        docgen.write_txt(tmp_path / "b.txt", "同志们", ["你们好"], encoding="big5")
    with pytest.raises(ValueError):
        docgen.write_txt(tmp_path / "c.txt", "标题", ["正文"], encoding="latin-1")


# --------------------------------------------------------------------------- normalize_zip


def test_normalize_zip(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, stamp in [
            ("word/document.xml", (2001, 1, 1, 0, 0, 0)),
            ("[Content_Types].xml", (2010, 5, 5, 5, 5, 4)),
        ]:
            z.writestr(zipfile.ZipInfo(name, date_time=stamp), b"<x/>")
        z.writestr(zipfile.ZipInfo("_rels/.rels", date_time=(2015, 1, 1, 0, 0, 0)), b"<r/>")
        z.writestr(zipfile.ZipInfo("a.xml", date_time=(2015, 1, 1, 0, 0, 0)), b"<a/>")
    when = datetime(2022, 7, 1, 8, 30, 15)
    docgen.normalize_zip(path, when)
    first = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["[Content_Types].xml", "_rels/.rels", "a.xml", "word/document.xml"]
        assert {i.date_time for i in z.infolist()} == {(2022, 7, 1, 8, 30, 14)}
        assert z.read("word/document.xml") == b"<x/>"
    docgen.normalize_zip(path, when)
    assert path.read_bytes() == first
    # an aware time is converted to China time for the entry stamps
    docgen.normalize_zip(path, datetime(2022, 7, 1, 0, 30, 15, tzinfo=timezone(timedelta(0))))
    assert path.read_bytes() == first
