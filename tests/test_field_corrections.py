"""The review loop for catalogue fields: a correction (sidecar file, DMS tag, the web form's
corrections) overrides what was read, in the next assembly, with its source recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from handover_dossier.bundle.assemble import BundleMeta, Item
from handover_dossier.extract.corrections import (
    CorrectionError,
    FieldCorrections,
    corrections_from_tags,
    normalise,
)
from handover_dossier.pipeline import _corrected, assemble
from handover_dossier.samplecorpus.docgen import write_docx, write_txt

DOSSIER = [sys.executable, "-m", "handover_dossier.cli"]


def _index(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as z:
        name = next(n for n in z.namelist() if n.endswith("data/index.json"))
        return json.loads(z.read(name))


@pytest.mark.parametrize(("key", "raw", "value"), [
    ("date", "20240305", "2024-03-05"), ("date", "2024-03-05", "2024-03-05"), ("date", "二〇二四年三月五日", "2024-03-05"),
    ("date", "2024", "2024"), ("secrecy", "机密★5年", "机密"), ("secrecy", "機密", "机密"), ("pages", "03", "3"),
    ("title", "  关于 做好 工作的通知 ", "关于 做好 工作的通知"), ("responsible", "-", ""),
])
def test_values_are_normalised(key: str, raw: str, value: str) -> None:
    assert normalise(key, raw) == value


def test_bad_values_name_the_row() -> None:
    with pytest.raises(CorrectionError) as err:
        FieldCorrections.parse("路径,日期,页数\na.docx,2024年13月1日,3\nb.docx,,三页\n", origin="dossier-fields.csv")
    assert "第 2 行" in str(err.value) and "第 3 行" in str(err.value)


def test_tags_correct_fields_like_categories() -> None:
    got = corrections_from_tags(("交接:C6", "交接:日期=20240305", "交接：责任者＝榆川县财政局", "交接:页数=x"))
    assert got == {"date": ("2024-03-05", "交接:日期=20240305"), "responsible": ("榆川县财政局", "交接：责任者＝榆川县财政局")}


def test_tag_wins_over_sidecar() -> None:
    item = Item(code="C2", category="工作总结", title="材料", source="a/材料.docx", size=1, digests={"sha256": "0"},
                local=Path("x"), format="docx", title_composed=True,
                fields={"title": {"value": "材料", "review": True, "confidence": 0.3}})
    fixes = FieldCorrections({"材料.docx": {"title": "榆川县财政局2023年工作总结", "date": "2024-01-10"}}, origin="dossier-fields.csv")
    out = _corrected(item, ("交接:日期=2024-01-12",), fixes)
    assert out.title == "榆川县财政局2023年工作总结" and not out.title_composed
    assert out.date == "2024-01-12" and out.year == "2024"
    assert out.fields["date"]["source"] == "人工更正（文件标签“交接:日期=2024-01-12”）"
    assert out.fields["title"]["source"] == "人工更正（dossier-fields.csv）" and not out.fields["title"]["review"]


def test_sidecar_overrides_the_field_in_the_next_assembly(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_docx(src / "材料3.docx", "关于春耕生产工作的通知", ["各乡镇：", "现将有关事项通知如下。"])
    write_txt(src / "说明.txt", "情况说明", ["今年以来，各项工作稳步推进。"], issuer="榆川县农业农村局", date_text="2024年3月5日")
    first = _index(assemble(src, tmp_path / "a.zip", meta=BundleMeta(unit="榆川县农业农村局")).bundle.path)
    notice = next(it for it in first["items"] if it["source"] == "材料3.docx")
    # nothing states who issued it or when: empty, flagged, never the case's unit
    assert notice["responsible"] == "" and notice["date"] == ""
    assert set(notice["fields_review"]) >= {"责任者", "日期"}
    (src / "dossier-fields.csv").write_text("路径,责任者,日期\n材料3.docx,榆川县农业农村局,20240228\n", encoding="utf-8")
    second = _index(assemble(src, tmp_path / "b.zip", meta=BundleMeta(unit="榆川县农业农村局")).bundle.path)
    notice = next(it for it in second["items"] if it["source"] == "材料3.docx")
    assert notice["responsible"] == "榆川县农业农村局" and notice["date"] == "2024-02-28"
    assert notice["fields"]["date"]["source"] == "人工更正（dossier-fields.csv）"
    assert "fields_review" not in notice or "日期" not in notice["fields_review"]
    assert all(it["source"] != "dossier-fields.csv" for it in second["items"])


def test_classify_json_shows_fields_with_source_and_confidence(tmp_path: Path) -> None:
    p = write_docx(tmp_path / "通知.docx", "关于做好2024年春耕生产工作的通知", ["各乡镇："], issuer="榆川县农业农村局",
                   doc_number="榆农发〔2024〕12号", date_text="2024年3月5日")
    r = subprocess.run([*DOSSIER, "classify", str(p), "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    fields = json.loads(r.stdout)[0]["fields"]
    assert fields["title"]["value"] == "关于做好2024年春耕生产工作的通知"
    assert fields["title"]["source"].startswith("主体·标题")
    assert fields["date"] == {**fields["date"], "value": "2024-03-05", "review": False}
    assert fields["doc_number"]["source"].startswith("版头·发文字号")
    assert 0 < fields["responsible"]["confidence"] <= 1
