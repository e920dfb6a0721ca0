"""Tests for the bundled sample corpus (handover_dossier.samplecorpus)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import docx
import openpyxl
import pypdf
import pypdfium2 as pdfium
import pytest
from handover_dossier import samplecorpus
from handover_dossier.samplecorpus import docgen

ALL_CODES = {
    "A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6",
    "D1", "D2", "D3", "D4", "E1", "F1", "P1", "P2",
}  # fmt: skip
MISSING = {"D2", "P1"}
EXC = samplecorpus.EXCEPTION


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return samplecorpus.generate(tmp_path_factory.mktemp("corpus") / "材料")


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def _docs(kind: str | None = None, code: str | None = None) -> list:
    return [
        d
        for d in samplecorpus.DOCUMENTS
        if (kind is None or d["kind"] == kind) and (code is None or d["code"] == code)
    ]


def _pdf_text(path: Path, password: str | None = None) -> str:
    pdf = pdfium.PdfDocument(str(path), password=password)
    try:
        return "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def _flat(text: str) -> str:
    return "".join(text.split())


# --------------------------------------------------------------------------- API data


def test_leader():
    leader = samplecorpus.LEADER
    assert set(leader) == {"leader", "post", "unit", "term_start", "term_end", "incoming", "fonds"}
    assert leader["leader"] == "陈立华"
    assert leader["incoming"] == "周明远"
    assert leader["unit"] == "云溪县交通运输局"
    assert date.fromisoformat(leader["term_start"]) < date.fromisoformat(leader["term_end"])
    assert re.fullmatch(r"[A-Z]\d+", leader["fonds"])


def test_expected_codes_cover_inventory_except_d2_p1():
    codes = set(samplecorpus.EXPECTED.values()) - {EXC}
    assert codes == ALL_CODES - MISSING
    assert len(codes) == 17
    assert all(unicodedata.normalize("NFC", p) == p for p in samplecorpus.EXPECTED)
    assert all("\\" not in p and not p.startswith("/") for p in samplecorpus.EXPECTED)


def test_inventory_template_agrees_if_present():
    """The codes used here are those of templates/inventory.toml (when the repo has it)."""
    import tomllib

    template = Path(__file__).resolve().parents[1] / "templates" / "inventory.toml"
    if not template.exists():
        pytest.skip("no templates/inventory.toml")
    codes = {c["code"] for c in tomllib.loads(template.read_text("utf-8"))["category"]}
    assert codes >= ALL_CODES
    assert set(samplecorpus.EXPECTED.values()) - {EXC} <= codes


def test_counts_and_formats():
    real = [d for d in samplecorpus.DOCUMENTS if d["code"] != EXC]
    assert 38 <= len(real) <= 50
    kinds = Counter(d["kind"] for d in real)
    assert kinds["docx"] >= 10 and kinds["pdf"] >= 5 and kinds["xlsx"] >= 6 and kinds["txt"] >= 3
    problems = Counter(d["kind"] for d in samplecorpus.DOCUMENTS if d["code"] == EXC)
    assert problems == {"empty": 1, "corrupt-pdf": 1, "lockfile": 1, "encrypted-pdf": 1}
    per_code = Counter(d["code"] for d in real)
    assert all(n >= 1 for n in per_code.values())


def test_summary_gap_2022_and_plans():
    summaries = {d["date"].year for d in _docs(code="C2")}
    assert 2022 not in summaries
    assert {2019, 2020, 2021, 2023} <= summaries
    plans = {d["date"].year for d in _docs(code="C1")}
    assert {2020, 2021, 2022, 2023, 2024} <= plans
    for d in _docs(code="C2"):
        assert "2022" not in d["title"]


def test_no_document_names_the_missing_categories():
    """Nothing in the corpus should look like a 离任审计 report or a 小金库 check."""
    for d in samplecorpus.DOCUMENTS:
        text = " ".join([d["path"], d.get("title", ""), *d.get("paragraphs", [])])
        for word in ("离任审计", "经济责任审计", "审计报告", "账外", "小金库"):
            assert word not in text, (d["path"], word)


def test_neutral_file_names_are_about_a_third():
    neutral = re.compile(r"扫描件-\d+|材料\(\d\)|新建|文档\d|工作簿\d|新文字文件|（\d{4}）")
    real = [d for d in samplecorpus.DOCUMENTS if d["code"] != EXC]
    share = sum(bool(neutral.search(Path(d["path"]).stem)) for d in real) / len(real)
    assert 0.25 <= share <= 0.45


# --------------------------------------------------------------------------- generated files


def test_expected_matches_generated_files(corpus):
    files = _files(corpus)
    assert set(files) == set(samplecorpus.EXPECTED)


def test_generate_is_deterministic(corpus, tmp_path):
    again = samplecorpus.generate(tmp_path / "new" / "again")  # creates missing folders
    assert again == tmp_path / "new" / "again"
    a, b = _files(corpus), _files(again)
    assert set(a) == set(b)
    for rel in a:
        assert a[rel].read_bytes() == b[rel].read_bytes(), rel
        assert a[rel].stat().st_mtime == b[rel].stat().st_mtime, rel


def test_overwrite_false_refuses_existing(tmp_path):
    target = tmp_path / "c"
    victim = target / "05-交接材料" / "离任交接书.docx"
    victim.parent.mkdir(parents=True)
    victim.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        samplecorpus.generate(target, overwrite=False)
    assert victim.read_bytes() == b"keep me"
    assert len(_files(target)) == 1  # nothing written


def test_overwrite_true_replaces_and_keeps_foreign_files(corpus, tmp_path):
    target = tmp_path / "c"
    stale = target / "05-交接材料" / "离任交接书.docx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    (target / "自己的笔记.txt").write_text("x", encoding="utf-8")
    samplecorpus.generate(target)
    assert stale.read_bytes() == (corpus / "05-交接材料" / "离任交接书.docx").read_bytes()
    assert (target / "自己的笔记.txt").exists()


def test_mtimes_are_document_dates_inside_the_term(corpus):
    start = date.fromisoformat(samplecorpus.LEADER["term_start"])
    end = date.fromisoformat(samplecorpus.LEADER["term_end"])
    for d in samplecorpus.DOCUMENTS:
        path = corpus / d["path"]
        expected = datetime.combine(d["date"], time(9, 30), tzinfo=docgen.CST).timestamp()
        assert path.stat().st_mtime == expected, d["path"]
        assert start <= d["date"] <= end, d["path"]
    assert corpus.stat().st_mtime == max(p.stat().st_mtime for p in corpus.rglob("*") if p.is_file())


def test_formats_present(corpus):
    suffixes = Counter(p.suffix for p in _files(corpus).values())
    assert {".docx", ".pdf", ".xlsx", ".txt"} <= set(suffixes)


def test_docx_documents_open_and_carry_their_title(corpus):
    for d in _docs("docx"):
        document = docx.Document(str(corpus / d["path"]))
        text = "\n".join(p.text for p in document.paragraphs)
        assert d["title"] in text, d["path"]
        assert len(text) >= 300, d["path"]
        assert document.core_properties.created.date() == d["date"], d["path"]


def test_pdfs_extract_their_title(corpus):
    pdfs = _docs("pdf")
    assert len(pdfs) >= 8
    for d in pdfs:
        text = _flat(_pdf_text(corpus / d["path"]))
        assert _flat(d["title"]) in text, d["path"]
        for para in d["paragraphs"][:2]:
            assert _flat(para) in re.sub(r"—\d+—", "", text), d["path"]


def test_multi_page_pdf(corpus):
    plan = corpus / "02-计划总结" / "云溪县“十四五”综合交通运输发展规划.pdf"
    pdf = pdfium.PdfDocument(str(plan))
    assert len(pdf) >= 3
    pdf.close()


def test_misnamed_pdf_is_a_pdf_under_docx_name(corpus):
    misnamed = [d for d in _docs("pdf") if d["path"].endswith(".docx")]
    assert len(misnamed) == 1
    d = misnamed[0]
    assert (corpus / d["path"]).read_bytes().startswith(b"%PDF-")
    assert samplecorpus.EXPECTED[d["path"]] not in (EXC, None)


def test_xlsx_have_realistic_tables(corpus):
    for d in _docs("xlsx"):
        wb = openpyxl.load_workbook(str(corpus / d["path"]))
        assert wb.sheetnames == [s["name"] for s in d["sheet"]]
        for ws in wb:
            assert ws.max_row >= 3 and ws.max_column >= 3, (d["path"], ws.title)
    roster = openpyxl.load_workbook(str(corpus / "01-机构人员" / "局机关干部职工花名册（2024年6月）.xlsx"))[
        "花名册"
    ]
    header = [c.value for c in roster[2]]
    assert {"姓名", "职务（职级）", "编制类别", "出生年月"} <= set(header)
    assert roster.max_row >= 17
    assets = openpyxl.load_workbook(str(corpus / "03-财务资产" / "固定资产台账.xlsx"))["资产台账"]
    header = [c.value for c in assets[2]]
    assert {"资产编号", "资产名称", "原值（元）", "购置日期"} <= set(header)
    assert assets.max_row >= 30
    for row in assets.iter_rows(min_row=3, values_only=True):
        original, depreciation, net = row[6], row[7], row[8]
        assert abs(original - depreciation - net) < 0.01
    debts = openpyxl.load_workbook(str(corpus / "03-财务资产" / "债权债务明细表.xlsx"))
    assert {"应收款项", "应付款项"} <= set(debts.sheetnames)


def test_encrypted_pdf_needs_password(corpus):
    (d,) = _docs("encrypted-pdf")
    path = corpus / d["path"]
    assert samplecorpus.EXPECTED[d["path"]] == EXC
    assert pypdf.PdfReader(str(path)).is_encrypted
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(path))
    assert _flat(d["title"]) in _flat(_pdf_text(path, password=d["password"]))


def test_corrupt_pdf_is_truncated_and_unreadable(corpus):
    (d,) = _docs("corrupt-pdf")
    data = (corpus / d["path"]).read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"%%EOF" not in data
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)


def test_lock_file_has_word_owner_file_shape(corpus):
    (d,) = _docs("lockfile")
    path = corpus / d["path"]
    assert path.name.startswith("~$")
    data = path.read_bytes()
    assert len(data) == 162
    user = d["user"]
    assert data[0] == len(user)
    assert data[1 : 1 + len(user)] == user.encode("ascii")
    assert int.from_bytes(data[54:56], "little") == len(user)
    assert data[56 : 56 + 2 * len(user)].decode("utf-16-le") == user
    # it sits beside the document it locks (Word drops the first two characters)
    original = path.parent / ("20" + path.name[2:])
    assert original.exists()


def test_empty_file(corpus):
    (d,) = _docs("empty")
    assert (corpus / d["path"]).stat().st_size == 0


def test_duplicate_has_same_bytes_and_code(corpus):
    (d,) = _docs("copy")
    copy, source = corpus / d["path"], corpus / d["source"]
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert samplecorpus.EXPECTED[d["path"]] == samplecorpus.EXPECTED[d["source"]] != EXC


def test_legacy_encodings(corpus):
    by_encoding = {d.get("encoding", "utf-8"): d for d in _docs("txt")}
    assert {"utf-8", "gbk", "big5"} <= set(by_encoding)
    for enc, d in by_encoding.items():
        raw = (corpus / d["path"]).read_bytes()
        text = raw.decode(enc)
        assert text.splitlines()[0] == d["title"]
        if enc != "utf-8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            assert b"\r\n" in raw  # written on Windows


def test_traditional_documents(corpus):
    opencc = pytest.importorskip("opencc")
    to_simplified = opencc.OpenCC("t2s")
    trad = [d for d in samplecorpus.DOCUMENTS if d.get("script") == "hant"]
    assert 3 <= len(trad) <= 4
    assert {d["kind"] for d in trad} >= {"docx", "pdf", "txt"}
    for d in trad:
        body = "".join(d["paragraphs"])
        assert to_simplified.convert(body) != body, d["path"]
    pdf = next(d for d in trad if d["kind"] == "pdf")
    assert _flat(pdf["paragraphs"][1]) in re.sub(r"—\d+—", "", _flat(_pdf_text(corpus / pdf["path"])))


def test_official_document_features(corpus):
    numbers = [d["doc_number"] for d in samplecorpus.DOCUMENTS if d.get("doc_number")]
    assert len(numbers) >= 10
    assert all(re.fullmatch(r"云\w{1,3}〔20\d\d〕\d+号", n) for n in numbers), numbers
    assert any(d.get("cn_date") for d in samplecorpus.DOCUMENTS)
    (secret,) = [d for d in samplecorpus.DOCUMENTS if d.get("secrecy")]
    assert secret["secrecy"] == "秘密"
    first = next(p.text for p in docx.Document(str(corpus / secret["path"])).paragraphs if p.text)
    assert first == "秘密"
    plan = docx.Document(str(corpus / "02-计划总结" / "2021" / "2021年工作计划.docx"))
    texts = [p.text for p in plan.paragraphs if p.text]
    assert texts[:3] == ["云溪县交通运输局文件", "云交发〔2021〕7号", "云溪县交通运输局2021年工作计划"]
    assert texts[-1] == "2021年2月25日"
    numeral = docx.Document(str(corpus / "05-交接材料" / "离任交接书.docx"))
    assert any(p.text == "二〇二四年六月二十八日" for p in numeral.paragraphs)
