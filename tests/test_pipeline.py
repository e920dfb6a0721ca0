"""The pipeline end to end on a local folder: every input accounted for, bad input never crashes."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from handover_dossier.bundle.assemble import BundleMeta
from handover_dossier.pipeline import AssembleError, assemble
from handover_dossier.runtime.progress import CallbackProgress
from handover_dossier.samplecorpus.docgen import write_docx, write_pdf, write_txt, write_xlsx
from handover_dossier.verify.checks import verify_bundle


def _index(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as zf:
        name = next(n for n in zf.namelist() if n.endswith("/data/index.json"))
        return json.loads(zf.read(name))


@pytest.fixture()
def mixed_source(tmp_path: Path) -> Path:
    """A small corpus with good documents and every kind of problem file."""
    src = tmp_path / "src"
    (src / "计划").mkdir(parents=True)
    (src / "财务").mkdir()
    (src / "杂项").mkdir()
    write_docx(src / "计划" / "2021年工作要点.docx", "云溪县交通运输局2021年工作要点",
               ["2021年，全局将着力推进农村公路建设，力争完成投资3亿元。", "一、加快重点项目建设。"])
    write_pdf(src / "2022年度工作总结.pdf", "云溪县交通运输局2022年度工作总结",
              ["一年来，全局圆满完成了各项目标任务，农村公路新改建120公里。"])
    write_xlsx(src / "财务" / "2023年经费收支表.xlsx",
               {"收支表": [["2023年度经费收支表"], ["项目", "本年收入", "本年支出"], ["基本支出", 1200, 1150]]})
    write_txt(src / "杂项" / "固定资产清单.txt", "固定资产清单", ["资产编号\t名称\t原值", "GZ001\t办公电脑\t6000"],
              encoding="gb18030")
    (src / "空文件.docx").write_bytes(b"")
    (src / "损坏.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>\n%%garbage")
    (src / "~$2021年工作要点.docx").write_bytes(b"\x05owner" + b"\x00" * 156)
    (src / "杂项" / "副本-2021年工作要点.docx").write_bytes((src / "计划" / "2021年工作要点.docx").read_bytes())
    (src / "程序.exe").write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    os.symlink("/etc/passwd", src / "外部链接.txt")
    return src


def test_every_input_accounted_for(mixed_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    result = assemble(mixed_source, out, meta=BundleMeta(leader="陈立华", unit="云溪县交通运输局"))
    idx = _index(out)
    listed = sorted(p.relative_to(mixed_source).as_posix() for p in mixed_source.rglob("*")
                    if p.is_file() or p.is_symlink())
    accounted = sorted([it["source"] for it in idx["items"]] + [ex["source"] for ex in idx["exceptions"]])
    assert accounted == listed
    assert result.summary["documents"] == len(listed) == 10
    reasons = {ex["source"]: ex["reason"] for ex in idx["exceptions"]}
    assert "空文件" in reasons["空文件.docx"]
    assert "损坏" in reasons["损坏.pdf"]
    assert "锁定文件" in reasons["~$2021年工作要点.docx"]
    assert "可执行" in reasons["程序.exe"]
    assert "来源目录之外" in reasons["外部链接.txt"]
    codes = {it["source"]: it["code"] for it in idx["items"]}
    assert codes["计划/2021年工作要点.docx"] == "C1"
    assert codes["2022年度工作总结.pdf"] == "C2"
    assert codes["财务/2023年经费收支表.xlsx"] == "C6"
    assert codes["杂项/固定资产清单.txt"] == "D4"
    copies = [it for it in idx["items"] if it["source"] in ("杂项/副本-2021年工作要点.docx", "计划/2021年工作要点.docx")]
    first, second = sorted(copies, key=lambda it: it["seq"])
    assert second["path"] == first["path"] and second["duplicate_of"] == first["seq"] and "duplicate_of" not in first
    assert verify_bundle(out).ok


def test_item_metadata(mixed_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    assemble(mixed_source, out, meta=BundleMeta(unit="云溪县交通运输局", term_start="2019-04-15", term_end="2024-06-30"))
    idx = _index(out)
    assert [it["seq"] for it in idx["items"]] == list(range(1, len(idx["items"]) + 1))
    plan = next(it for it in idx["items"] if it["source"] == "计划/2021年工作要点.docx")
    assert plan["title"] == "云溪县交通运输局2021年工作要点"
    assert plan["year"] == "2021"
    assert plan["path"].startswith("data/C1-工作计划/")
    assert len(plan["sha256"]) == 64 and plan["confidence"] > 0.5
    assert idx["bundle"]["term"] == {"start": "2019-04-15", "end": "2024-06-30"}
    assert "C2" not in idx["missing"] and "P1" in idx["missing"]
    gbk = next(it for it in idx["items"] if it["source"].endswith("固定资产清单.txt"))
    assert gbk["title"] == "固定资产清单"


def test_progress_callbacks(mixed_source: Path, tmp_path: Path) -> None:
    seen: dict[str, tuple[int, int | None]] = {}
    assemble(mixed_source, tmp_path / "b.zip", progress=CallbackProgress(lambda s, d, t: seen.__setitem__(s, (d, t))))
    assert seen["fetch"][0] == seen["fetch"][1] == 8  # 10 listed - the lock file - the symlink out of the tree
    assert seen["classify"][0] == 8
    # 打包 counts its steps: 7 documents rendered (no PDFs here: DOSSIER_PDF=0), then every
    # member written -- 4 stored documents (the copy is stored once), 7 rendered ones,
    # index.json, bagit.txt, bag-info.txt and a manifest and a tag manifest per algorithm.
    assert seen["assemble"] == (7 + 4 + 7 + 3 + 4, 7 + 4 + 7 + 3 + 4)


@pytest.mark.parametrize("pdf", ["0", "1"])
def test_bundle_stage_moves_per_document_and_member(mixed_source: Path, tmp_path: Path, monkeypatch, pdf: str) -> None:
    """No more 0/1 for the whole 打包 stage (most of a small run's time): one step per
    document rendered, per PDF LibreOffice finishes and per member written, each seen as it
    happens, and the bar ends exactly at its total."""
    monkeypatch.setenv("DOSSIER_PDF", pdf)
    steps: list[tuple[int, int | None]] = []

    def record(stage: str, done: int, total: int | None) -> None:
        if stage == "assemble":
            steps.append((done, total))

    result = assemble(mixed_source, tmp_path / "b.zip", progress=CallbackProgress(record))
    total = steps[0][1]
    pdfs = 7 if pdf == "1" else 0
    assert result.index["renditions"]["pdf"]["made"] == (pdf == "1")
    assert total == 7 + pdfs + (4 + 7 + pdfs + 3 + 4)
    # 0, 1, 2, ... total: every step reported on its own, the last one being the total
    # (finish() repeats it).
    assert [d for d, _ in steps[:-1]] == list(range(total + 1))
    assert steps[-1][0] == total and {t for _, t in steps} == {total}


def test_no_bundle_when_source_missing(tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    with pytest.raises(AssembleError, match="来源目录不存在"):
        assemble(tmp_path / "nope", out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_no_bundle_when_source_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AssembleError, match="没有任何文件"):
        assemble(tmp_path / "empty", tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_failed_write_leaves_no_partial_bundle(mixed_source: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "b.zip").mkdir()  # the target name is taken by a folder: the final rename fails
    with pytest.raises(AssembleError):
        assemble(mixed_source, out_dir / "b.zip")
    assert [p.name for p in out_dir.iterdir()] == ["b.zip"]  # no .part left behind


def test_rerun_is_identical_with_source_date_epoch(mixed_source: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719705600")
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    assemble(mixed_source, a)
    assemble(mixed_source, b, workers=2)
    assert a.read_bytes() == b.read_bytes()


def test_parallel_extraction_matches_serial(mixed_source: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719705600")
    serial, parallel = tmp_path / "s.zip", tmp_path / "p.zip"
    assemble(mixed_source, serial, workers=1)
    assemble(mixed_source, parallel, workers=2)
    assert _index(serial) == _index(parallel)


def test_mapping_file_overrides(mixed_source: Path, tmp_path: Path) -> None:
    (mixed_source / "dossier-mapping.csv").write_text("path,code\n2022年度工作总结.pdf,C3\n", encoding="utf-8")
    assemble(mixed_source, tmp_path / "b.zip")
    idx = _index(tmp_path / "b.zip")
    item = next(it for it in idx["items"] if it["source"] == "2022年度工作总结.pdf")
    assert (item["code"], item["method"], item["confidence"]) == ("C3", "mapping", 1.0)
    assert all(it["source"] != "dossier-mapping.csv" for it in idx["items"])
