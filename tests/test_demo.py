"""`dossier demo`: the embedded default works end to end with no server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from handover_dossier.samplecorpus import EXCEPTION, EXPECTED


def test_demo_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo" / "sample-bundle.zip"
    r = subprocess.run([sys.executable, "-m", "handover_dossier.cli", "demo", "-o", str(out), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["verify"]["ok"] is True
    assert out.exists()
    summary = data["summary"]
    assert summary["covered"] >= 14
    assert sorted(data["missing"]) == ["D2", "P1"]
    # Every generated file is accounted for, with the problem files as exceptions with reasons.
    problems = sorted(p for p, code in EXPECTED.items() if code == EXCEPTION)
    assert sorted(ex["source"] for ex in data["exceptions"]) == problems
    assert all(ex["reason"] for ex in data["exceptions"])
    assert summary["documents"] == len(EXPECTED)


def test_demo_classifies_sample_corpus_as_labelled(sample_corpus: Path, tmp_path: Path) -> None:
    from handover_dossier.pipeline import assemble

    result = assemble(sample_corpus, tmp_path / "b.zip")
    got = {it["source"]: it["code"] for it in result.index["items"]}
    expected = {p: c for p, c in EXPECTED.items() if c != EXCEPTION}
    wrong = {p: (got.get(p), c) for p, c in expected.items() if got.get(p) != c}
    assert not wrong
