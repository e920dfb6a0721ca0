"""`dossier eval` on the checked-in labelled set of official-format documents
(tests/data/official, made by corpus/official/generate.py): per-field accuracy of the
catalogue, on text documents and on scans, must stay above the issue-15 thresholds.

A few dozen documents, ten of them scans (OCR is the costly part); the full measurement
with a few hundred documents is bench/official_fields.py."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from handover_dossier.quality.evaluate import FIELD_COLUMNS, evaluate

SET = Path(__file__).resolve().parent / "data" / "official"
#: Every catalogue field right on at least this share of the documents (text and scans).
FIELD_THRESHOLD = 0.95
#: Fields read from scans within this many points of those read from text documents.
SCAN_GAP = 0.10
#: Scans: share of decided documents classified right, and the most that may be abstained.
SCAN_DECIDED = 0.95
SCAN_ABSTAINED = 0.10


@pytest.fixture(scope="module")
def result():
    return evaluate(SET, workers=2)


def test_the_set_covers_every_layout_and_form() -> None:
    with (SET / "fields.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    layouts = {r["layout"] for r in rows}
    forms = {r["format"] for r in rows}
    assert layouts >= {"文件", "函", "联合行文", "讲话稿", "纪要", "报告", "表格"}
    assert forms >= {"docx", "pdf-cid", "pdf-embedded", "txt", "xlsx", "scan-pdf", "scan-tif", "scan-jpg", "scan-png"}
    assert all((SET / r["path"]).is_file() for r in rows)


def test_every_field_is_right_on_the_labelled_set(result) -> None:
    acc = result.field_accuracy()
    assert set(acc) == set(FIELD_COLUMNS)
    low = {FIELD_COLUMNS[k]: v["accuracy"] for k, v in acc.items() if v["accuracy"] < FIELD_THRESHOLD}
    assert not low, f"below {FIELD_THRESHOLD:.0%}: {low}; errors: {[f.__dict__ for f in result.fields if not f.ok]}"


def test_scans_read_within_ten_points_of_text_documents(result) -> None:
    text, scan = result.field_accuracy("text"), result.field_accuracy("scan")
    assert scan, "the set has scans"
    for key in FIELD_COLUMNS:
        assert text[key]["accuracy"] >= FIELD_THRESHOLD, (key, text[key])
        assert scan[key]["accuracy"] >= text[key]["accuracy"] - SCAN_GAP, (key, scan[key], text[key])


def test_scans_are_classified_from_their_text(result) -> None:
    sc = result.group_classification("scan")
    assert sc["documents"] >= 8
    assert sc["abstention_rate"] <= SCAN_ABSTAINED, sc
    assert sc["accuracy_decided"] >= SCAN_DECIDED, sc


def test_eval_command_reports_fields_beside_codes(tmp_path: Path) -> None:
    # the text documents only (no OCR): the command's report and its JSON
    sub = tmp_path / "set"
    rows = []
    with (SET / "fields.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for r in reader:
            if r["format"] in ("docx", "txt", "xlsx") and len(rows) < 8:
                (sub / r["path"]).parent.mkdir(parents=True, exist_ok=True)
                (sub / r["path"]).write_bytes((SET / r["path"]).read_bytes())
                rows.append(r)
        fieldnames = reader.fieldnames
    with (sub / "fields.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fieldnames)
        w.writeheader()
        w.writerows(rows)
    cmd = [sys.executable, "-m", "handover_dossier.cli", "eval", str(sub)]
    r = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["documents"] == len(rows)
    assert set(data["fields"]) == set(FIELD_COLUMNS)
    assert all(0 <= v["accuracy"] <= 1 for v in data["fields"].values())
    text = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    assert "著录项准确率" in text and "题名：" in text and "准确率：" in text
