"""Classification: rules + model in one confidence and reason, needs_review below the
threshold, overrides (DMS tag, mapping file), the model cache, and ``dossier train``
folding an archivist's corrections into the unit's model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from handover_dossier.classify import Classifier, ClassifyInput, Mapping
from handover_dossier.classify import model as model_mod
from handover_dossier.classify.training import load_corrections
from handover_dossier.classify.year import document_year
from handover_dossier.inventory import default_inventory
from handover_dossier.quality.teach import train_unit
from handover_dossier.samplecorpus import docgen

DOSSIER = [sys.executable, "-m", "handover_dossier.cli"]


@pytest.fixture(autouse=True)
def _no_pdf_renditions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs here are about extraction and classification: skip the LibreOffice PDF copies
    of the catalogue (covered by the assemble tests), which cost seconds per run."""
    monkeypatch.setenv("DOSSIER_PDF", "0")

# A deliberately tiny training set (three codes) for the mechanics of training, caching
# and unit corrections; the shipped set is used where accuracy matters.
TINY = {
    "C1": ["今年工作的总体思路是稳中求进，重点抓好以下几项任务：加快项目建设，力争全年完成投资十亿元。",
           "明年要着力推进乡村振兴，计划新建农村公路五十公里，确保各项目标按期完成。",
           "下一步，我们将围绕年度目标，细化任务分工，力争各项指标走在全市前列。"],
    "C2": ["一年来，在县委的坚强领导下，我们圆满完成了全年目标任务，取得了明显成效。",
           "过去一年，全局上下团结一心，完成固定资产投资十二亿元，同比增长百分之八。",
           "回顾全年工作，我们坚持稳中求进，各项工作取得了新进展、新成效。"],
    "C3": ["同志们：今天我们召开全县经济工作会议，主要任务是总结工作、部署任务。",
           "各位领导、同志们：大家好！很高兴参加今天的会议，我讲三点意见。",
           "同志们，刚才几位同志作了很好的发言，我完全同意，下面我再强调几点。"],
}

MINUTES = [  # a document type the tiny model has never seen: 会议纪要, filed by this unit under A3
    "会议纪要\n时间：三月五日上午\n地点：局三楼会议室\n主持：局长\n会议议定事项如下：一、由办公室牵头修订考勤制度；二、各股室按月报送运转情况。",
    "会议纪要\n时间：四月二日下午\n地点：局会议室\n出席：班子成员\n会议议定：一、明确班子成员分工调整；二、办公室负责督办，按周通报。",
    "会议纪要\n时间：五月九日\n地点：二楼小会议室\n列席：各股室负责人\n会议议定事项：一、完善请示报告制度；二、规范公文运转流程。",
]
NEW_MINUTES = "会议纪要\n时间：六月十日上午\n地点：局三楼会议室\n会议议定事项如下：一、调整部分股室职责；二、办公室负责督办落实。"


def _write_tiny_corpus(root: Path, extra: list[dict] | None = None) -> Path:
    path = root / "train" / "train.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"code": c, "title": "", "filename": f"材料{i}.docx", "text": t, "script": "hans", "origin": "test"}
            for c, texts in TINY.items() for i, t in enumerate(texts)]
    rows += extra or []
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOSSIER_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("DOSSIER_MODEL_CACHE", str(tmp_path / "models"))
    model_mod._memo.clear()
    yield _write_tiny_corpus(tmp_path / "corpus")
    model_mod._memo.clear()


# --------------------------------------------------------------------------- decisions
def test_title_keyword_and_model_agree_with_a_reason() -> None:
    d = Classifier().classify(ClassifyInput(
        source="总结/2023年度工作总结.docx", title="榆川县交通运输局2023年工作总结",
        text="榆川县交通运输局2023年工作总结\n一年来，在县委、县政府的坚强领导下，我局圆满完成了全年目标任务。"))
    assert (d.code, d.category, d.method) == ("C2", "工作总结", "combined")
    assert d.reason.startswith("标题含“工作总结”")
    assert "；模型 0." in d.reason
    assert d.confidence >= 0.9 and not d.needs_review


def test_traditional_script_is_classified_like_simplified() -> None:
    simp = Classifier().classify(ClassifyInput(source="a.txt", title="2023年度部门决算", text="本年收入合计1200万元，基本支出860万元。"))
    trad = Classifier().classify(ClassifyInput(source="a.txt", title="2023年度部門決算", text="本年收入合計1200萬元，基本支出860萬元。"))
    assert simp.code == trad.code == "C6"


def test_body_without_title_is_decided_by_the_text() -> None:
    text = ("同志们：今天，我们召开全县安全生产工作会议，主要任务是总结去年工作，分析当前形势，部署今年任务。"
            "刚才，几位同志作了很好的发言，我都同意。下面，我讲三点意见。")
    d = Classifier().classify(ClassifyInput(source="材料0017.docx", title=text[:24], text=text, title_composed=True))
    assert d.code == "C3"


def test_nothing_to_go_on_needs_review() -> None:
    d = Classifier().classify(ClassifyInput(source="扫描件0003.pdf", title="扫描件0003", text="", title_composed=True,
                                            text_missing=True))
    assert d.needs_review
    assert d.confidence < default_inventory().review_threshold
    assert "无可读正文" in d.reason


def test_one_category_per_document_with_alternatives() -> None:
    d = Classifier().classify(ClassifyInput(source="x.docx", title="2023年工作总结及2024年工作计划",
                                            text="2023年工作总结及2024年工作计划\n一年来，我们圆满完成了各项任务。明年，力争再上新台阶。"))
    assert d.code in {"C1", "C2"}
    assert all(code != d.code for code, _ in d.alternatives)


def test_rules_alone_when_no_training_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_CORPUS", str(tmp_path / "nothing"))
    model_mod._memo.clear()
    clf = Classifier()
    d = clf.classify(ClassifyInput(source="固定资产清单.xlsx", title="固定资产清单", text="资产编号\t名称\t原值"))
    assert clf.model is None
    assert (d.code, d.method) == ("D4", "rules")


# --------------------------------------------------------------------------- overrides
def test_dms_tag_wins() -> None:
    doc = ClassifyInput(source="2023年工作总结.docx", title="2023年工作总结", text="一年来……", tags=("重要", "交接:C6"))
    d = Classifier().classify(doc)
    assert (d.code, d.confidence, d.method, d.needs_review) == ("C6", 1.0, "tag", False)
    assert "交接:C6" in d.reason
    trad = Classifier().classify(ClassifyInput(source="a.docx", tags=("交接：財務收支狀況",)))
    assert trad.code == "C6"


def test_mapping_file_wins(tmp_path: Path) -> None:
    inv = default_inventory()
    mapping = Mapping.parse("# 人工更正\npath,code\n03-财务/扫描件-003.pdf,C6\n讲话.docx,C3\n", inv)
    clf = Classifier(inv, mapping)
    d = clf.classify(ClassifyInput(source="03-财务/扫描件-003.pdf", title="2023年工作总结"))
    assert (d.code, d.method) == ("C6", "mapping")
    assert clf.classify(ClassifyInput(source="其他/讲话.docx")).code == "C3"  # a bare name matches anywhere


def test_mapping_file_at_source_root_in_a_run(tmp_path: Path) -> None:
    from handover_dossier.pipeline import assemble

    src = tmp_path / "src"
    docgen.write_docx(src / "2023年工作总结.docx", "2023年工作总结", ["一年来，我们圆满完成了全年目标任务。"])
    docgen.write_txt(src / "材料1.txt", "情况说明", ["截至年底，尚有三笔往来款未清理。"])
    (src / "dossier-mapping.csv").write_text("path,code\n材料1.txt,D3\n", encoding="utf-8")
    items = {it["source"]: it for it in assemble(src, tmp_path / "b.zip").index["items"]}
    assert set(items) == {"2023年工作总结.docx", "材料1.txt"}  # the mapping file itself is not a document
    assert (items["材料1.txt"]["code"], items["材料1.txt"]["method"]) == ("D3", "mapping")
    assert items["2023年工作总结.docx"]["code"] == "C2"


# --------------------------------------------------------------------------- model cache
def test_model_is_cached_by_hash_and_retrained_when_data_changes(tiny: Path, tmp_path: Path) -> None:
    inv = default_inventory()
    first = model_mod.default_model(inv)
    assert first is not None and first.info["examples"] == 9
    stored = sorted((tmp_path / "models").glob("*.npz"))
    assert len(stored) == 1
    model_mod._memo.clear()  # as in a new process: loaded from the cache, not retrained
    again = model_mod.default_model(inv)
    assert sorted((tmp_path / "models").glob("*.npz")) == stored
    assert again.proba("", "a.docx", TINY["C3"][0]) == pytest.approx(first.proba("", "a.docx", TINY["C3"][0]))
    # New training data: new key, retrained automatically.
    _write_tiny_corpus(tmp_path / "corpus", [{"code": "A3", "title": "", "filename": "x.docx", "text": MINUTES[0]}])
    changed = model_mod.default_model(inv)
    assert changed.info["examples"] == 10
    assert len(list((tmp_path / "models").glob("*.npz"))) == 2


def test_damaged_cache_entry_is_rebuilt(tiny: Path, tmp_path: Path) -> None:
    inv = default_inventory()
    model_mod.default_model(inv)
    (path,) = (tmp_path / "models").glob("*.npz")
    path.write_bytes(b"not a model")
    model_mod._memo.clear()
    assert model_mod.default_model(inv).info["examples"] == 9


def test_inventory_change_changes_the_key(tiny: Path) -> None:
    inv = default_inventory()
    data = tiny.read_bytes()
    from dataclasses import replace

    renamed = replace(inv, categories=tuple(replace(c, name=c.name + "类") if c.code == "C1" else c for c in inv))
    assert model_mod.model_key(data, inv) != model_mod.model_key(data, renamed)


# --------------------------------------------------------------------------- corrections
def _unit_source(root: Path) -> Path:
    src = root / "unit-src"
    for i, text in enumerate(MINUTES):
        docgen.write_txt(src / f"纪要{i + 1}.txt", text.splitlines()[0], text.splitlines()[1:])
    (src / "dossier-mapping.csv").write_text(
        "path,code\n" + "".join(f"纪要{i + 1}.txt,A3\n" for i in range(len(MINUTES))), encoding="utf-8")
    return src


def test_train_folds_corrections_into_the_units_model(tiny: Path, tmp_path: Path) -> None:
    inv = default_inventory()
    new_doc = ClassifyInput(source="材料9.txt", title="会议纪要", text=NEW_MINUTES)
    before = Classifier(inv, unit="榆川县交通运输局").classify(new_doc)
    assert before.code != "A3"

    report = train_unit(str(_unit_source(tmp_path)), "榆川县交通运输局", inv)
    assert (report.added, report.replaced, report.total_corrections) == (3, 0, 3)
    assert report.by_code == {"A3": 3}
    assert report.examples == 12
    assert {e.origin for e in load_corrections("榆川县交通运输局")} == {f"correction:纪要{i}.txt" for i in (1, 2, 3)}

    after = Classifier(inv, unit="榆川县交通运输局").classify(new_doc)
    assert after.code == "A3"
    # Another unit, and runs without a unit, keep the project's model.
    assert Classifier(inv, unit="凤栖县教育局").classify(new_doc).code == before.code
    assert Classifier(inv).classify(new_doc).code == before.code

    again = train_unit(str(_unit_source(tmp_path)), "榆川县交通运输局", inv)
    assert (again.added, again.replaced, again.total_corrections) == (0, 3, 3)


def test_dossier_train_and_assemble_with_unit(tiny: Path, tmp_path: Path) -> None:
    env = {**__import__("os").environ}
    src = _unit_source(tmp_path)
    r = subprocess.run([*DOSSIER, "train", str(src), "--unit", "榆川县交通运输局"], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "新纳入 3 条人工更正" in r.stdout and "A3 3 条" in r.stdout
    run_src = tmp_path / "run"
    docgen.write_txt(run_src / "材料9.txt", "会议纪要", NEW_MINUTES.splitlines()[1:])
    r = subprocess.run([*DOSSIER, "assemble", str(run_src), "-o", str(tmp_path / "b.zip"), "--unit", "榆川县交通运输局",
                        "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    import zipfile

    from handover_dossier.verify.checks import verify_bundle

    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        index = json.loads(next(zf.read(n) for n in zf.namelist() if n.endswith("data/index.json")))
    assert [it["code"] for it in index["items"]] == ["A3"]
    assert verify_bundle(tmp_path / "b.zip").ok


def test_train_needs_a_unit(tiny: Path, tmp_path: Path) -> None:
    r = subprocess.run([*DOSSIER, "train", str(_unit_source(tmp_path))], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "--unit" in r.stderr


# --------------------------------------------------------------------------- year
@pytest.mark.parametrize(
    ("title", "date", "name", "year"),
    [("北洺市统计局2024年工作要点", "2023-12-28", "", "2024"),
     ("2023年工作总结", "2024-01-15", "", "2023"),
     ("北洺市第一中学2022—2023学年工作总结", "2023-07-10", "", "2023"),
     ("二〇二二年工作总结", "", "", "2022"),
     ("关于调整领导班子分工的通知", "2021-03-05", "", "2021"),
     ("交接书", "", "归档/2020/交接书.docx", ""),
     ("交接书", "", "2020交接书.docx", "2020"),
     ("“十四五”交通运输发展规划", "", "", "")],
)
def test_document_year(title: str, date: str, name: str, year: str) -> None:
    assert document_year(title, date, name) == year
