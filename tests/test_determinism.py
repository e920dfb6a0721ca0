"""Reproducible bundles: the same inputs and SOURCE_DATE_EPOCH give a byte-identical zip -
rendered Word documents and LibreOffice PDFs included - through two full pipeline runs."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from handover_dossier.bundle.assemble import BundleMeta
from handover_dossier.pipeline import assemble
from handover_dossier.samplecorpus import LEADER
from handover_dossier.verify.checks import verify_bundle

EPOCH = 1719705600  # 2024-06-30T00:00:00Z


def _meta() -> BundleMeta:
    return BundleMeta(leader=LEADER["leader"], post=LEADER["post"], unit=LEADER["unit"],
                      term_start=LEADER["term_start"], term_end=LEADER["term_end"], fonds=LEADER.get("fonds", ""),
                      incoming=LEADER.get("incoming", ""))


def _index(bundle: Path) -> dict:
    with zipfile.ZipFile(bundle) as zf:
        return json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("/data/index.json"))))


def test_two_full_runs_give_identical_bundles(sample_corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    monkeypatch.setenv("DOSSIER_PDF", "1")  # the LibreOffice PDFs must be reproducible too
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    first = assemble(sample_corpus, a, meta=_meta())
    second = assemble(sample_corpus, b, meta=_meta(), workers=1)
    assert hashlib.sha256(a.read_bytes()).hexdigest() == hashlib.sha256(b.read_bytes()).hexdigest()
    assert first.bundle.sha256 == second.bundle.sha256
    index = _index(a)
    # the PDF renditions were made, so they are covered by the comparison above
    assert index["renditions"]["pdf"]["made"] is True
    assert all("pdf" in d for d in index["documents"])
    assert index["bundle"]["created"] == "2024-06-30T00:00:00Z"
    with zipfile.ZipFile(a) as zf:
        infos = zf.infolist()
        info_txt = zf.read(next(n for n in zf.namelist() if n.endswith("/bag-info.txt"))).decode()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {datetime.fromtimestamp(EPOCH, UTC).timetuple()[:6]}
    assert "Bagging-Date: 2024-06-30" in info_txt
    assert verify_bundle(a).ok

