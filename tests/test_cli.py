"""The command-line contract other tools depend on: exit codes, stderr, --json."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from handover_dossier.samplecorpus.docgen import write_docx, write_txt

DOSSIER = [sys.executable, "-m", "handover_dossier.cli"]


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*DOSSIER, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    write_docx(src / "2023年度工作总结.docx", "2023年度工作总结", ["一年来，全局圆满完成各项目标任务。"])
    write_txt(src / "债权债务情况说明.txt", "债权债务情况说明", ["截至2024年6月，应收款项120万元，应付款项80万元。"])
    (src / "空.txt").write_bytes(b"")
    return src


def test_assemble_json_and_verify(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    r = run("assemble", str(source), "-o", str(out), "--leader", "陈立华", "--post", "局长", "--unit", "云溪县交通运输局",
            "--term-start", "2019-04-15", "--term-end", "2024-06-30", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["summary"]["items"] == 2 and data["summary"]["exceptions"] == 1
    assert data["exceptions"][0]["source"] == "空.txt"
    assert set(data["stage_seconds"]) >= {"fetch", "extract", "classify", "assemble"}
    assert "C2" not in data["missing"] and "D3" not in data["missing"]

    r = run("verify", str(out), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["ok"] is True


def test_assemble_human_summary_in_chinese(source: Path, tmp_path: Path) -> None:
    r = run("assemble", str(source), "-o", str(tmp_path / "b.zip"))
    assert r.returncode == 0
    assert "档案包已生成" in r.stdout and "空文件" in r.stdout


def test_traditional_output(source: Path, tmp_path: Path) -> None:
    r = run("--lang", "zh-Hant", "assemble", str(source), "-o", str(tmp_path / "b.zip"))
    assert r.returncode == 0
    assert "檔案包已生成" in r.stdout


def test_assemble_failure_one_line_and_no_output(tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    r = run("assemble", str(tmp_path / "missing"), "-o", str(out))
    assert r.returncode != 0
    assert r.stderr.strip().count("\n") == 0 and "错误" in r.stderr
    assert not out.exists()


def test_bad_date_rejected(source: Path, tmp_path: Path) -> None:
    r = run("assemble", str(source), "-o", str(tmp_path / "b.zip"), "--term-start", "2019/04/15")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr


def test_verify_exit_codes(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    assert run("assemble", str(source), "-o", str(out)).returncode == 0
    # 2: not a bundle at all
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    r = run("verify", str(junk))
    assert r.returncode == 2
    # 1: a changed byte in one document, named in the output
    tampered = tmp_path / "t.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".txt") and "/data/" in info.filename:
                data = data[:-1] + bytes([data[-1] ^ 1])
                victim = info.filename.split("/", 1)[1]
            zout.writestr(info, data)
    r = run("verify", str(tampered))
    assert r.returncode == 1
    assert victim in r.stdout and "摘要不符" in r.stdout


def test_classify_command(source: Path) -> None:
    r = run("classify", str(source / "2023年度工作总结.docx"), "--json")
    assert r.returncode == 0
    row = json.loads(r.stdout)[0]
    assert row["code"] == "C2" and "工作总结" in row["reason"] and 0 < row["confidence"] <= 1


def test_file_command_local(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    assert run("assemble", str(source), "-o", str(out)).returncode == 0
    dest = tmp_path / "dossiers"
    r = run("file", str(out), str(dest))
    assert r.returncode == 0, r.stderr
    assert (dest / "b.zip").read_bytes() == out.read_bytes()
    r = run("file", str(out), str(dest))
    assert r.returncode == 0 and "未重复上传" in r.stdout


def test_summary_says_how_many_more_findings_and_counts_like_the_report(source: Path, tmp_path: Path) -> None:
    """Issue 17 (11): the CLI listed 10 of 18 findings with no word of the rest, and counted
    differently from the gap report. A 15-year term with two documents has many findings."""
    from docx import Document

    out = tmp_path / "b.zip"
    r = run("assemble", str(source), "-o", str(out), "--term-start", "2010-01-01", "--term-end", "2024-12-31")
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as zf:
        idx = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("/data/index.json"))))
        report = zf.read(next(n for n in zf.namelist() if n.endswith("04-缺项与问题报告.docx")))
    findings = idx["gaps"]["findings"]
    n = len(findings)
    severe = sum(1 for f in findings if f["severity"] == "缺项")
    problems = sum(1 for f in findings if f["severity"] == "问题")
    assert n > 10
    head = f"缺项与问题共 {n} 项（缺项 {severe} 项、问题 {problems} 项）"
    assert head in r.stdout
    assert f"…… 另有 {n - 10} 项，见《缺项与问题报告》" in r.stdout
    assert sum(1 for line in r.stdout.splitlines() if line.startswith("    - [")) == 10
    text = "\n".join(p.text for p in Document(io.BytesIO(report)).paragraphs)
    assert f"发现缺项与问题共 {n} 项（缺项 {severe} 项、问题 {problems} 项）" in text
    lacking = [c for c in idx["missing"] if c not in idx["gaps"]["generated"]]
    assert "P2" in idx["gaps"]["generated"] and f"没有材料的类目 {len(lacking)} 个：" in r.stdout
