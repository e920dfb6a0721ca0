"""Filing: a verified bundle goes into a destination folder through its connector --
atomically (temporary name + MOVE), read back, idempotent, robust to server faults."""

from __future__ import annotations

import json
import os
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest
import requests
from handover_dossier import cli
from handover_dossier.bundle.assemble import BundleMeta
from handover_dossier.connectors.credentials import Credentials
from handover_dossier.connectors.http import RetryPolicy
from handover_dossier.connectors.webdav import WebDavConnector
from handover_dossier.filing import FilingError, file_bundle
from handover_dossier.pipeline import assemble
from handover_dossier.verify.checks import verify_bundle
from support.faultproxy import Fault, Rule
from support.webdav_server import DAV_PASSWORD, DAV_USER


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dossier_model_cache: Path) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")  # catalogue PDF renditions are not under test here
    monkeypatch.setenv("DOSSIER_MODEL_CACHE", str(dossier_model_cache))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


def fast_policy(**kw) -> RetryPolicy:
    return RetryPolicy(attempts=kw.pop("attempts", 4), backoff=0.01, locked_backoff=kw.pop("locked_backoff", 0.05), **kw)


@pytest.fixture
def bundle(dav_corpus: Path, tmp_path: Path) -> Path:
    """A real bundle assembled from the local copy of the corpus."""
    return assemble(dav_corpus, tmp_path / "张三-离任交接档案包.zip").bundle.path


def test_file_into_webdav_is_atomic_verified_and_idempotent(dav_server, dav_corpus, bundle, dav_credentials, tmp_path):
    dest = dav_server.url("dossiers/张三 (2019-2024)")
    dav_server.reset_log()
    res = file_bundle(bundle, dest)
    stored = dav_server.root / "dossiers" / "张三 (2019-2024)" / bundle.name
    assert stored.read_bytes() == bundle.read_bytes()
    assert not res.skipped and res.size == bundle.stat().st_size and res.etag
    assert res.location == f"{dav_server.base}/dossiers/张三%20%282019-2024%29/"  # readable, no credentials
    assert not res.tagged and not res.source_tagged and res.warnings == []  # plain WebDAV has no tags
    puts = dav_server.log("PUT")
    assert len(puts) == 1 and Path(puts[0].path).name.startswith(".~dossier-")  # never the final name
    moves = dav_server.log("MOVE")
    assert len(moves) == 1 and moves[0].headers["Destination"].endswith("/" + requests.utils.quote(bundle.name))
    assert [p.name for p in stored.parent.iterdir()] == [bundle.name]
    # The filed bundle pulls back intact.
    back = tmp_path / "back.zip"
    back.write_bytes(requests.get(dest + requests.utils.quote(bundle.name), auth=(DAV_USER, DAV_PASSWORD)).content)
    assert verify_bundle(back).ok

    dav_server.reset_log()
    again = file_bundle(bundle, dest)
    assert again.skipped and dav_server.log("PUT") == [] and dav_server.log("MOVE") == []

    # A different bundle under the same name is never overwritten: it is kept, and this one is
    # filed beside it as the next version (the MOVE says Overwrite: F).
    (tmp_path / "o").mkdir()
    other = assemble(dav_corpus, tmp_path / "o" / bundle.name, meta=BundleMeta(leader="李四"))
    first = stored.read_bytes()
    dav_server.reset_log()
    second = file_bundle(other.bundle.path, dest)
    assert not second.skipped and stored.read_bytes() == first
    assert second.name == bundle.name.replace(".zip", "（第2版）.zip") and "已原样保留" in second.warnings[0]
    assert (stored.parent / second.name).read_bytes() == other.bundle.path.read_bytes()
    assert [m.headers["Overwrite"] for m in dav_server.log("MOVE")] == ["F"]
    assert file_bundle(other.bundle.path, dest).skipped  # and filing it again finds that version




def test_filing_survives_resets_and_503_and_reports_quota(
    dav_server, dav_corpus, dav_credentials, fault_proxy_factory, tmp_path
):
    src = tmp_path / "包.zip"
    src.write_bytes(os.urandom(300_000))
    proxy = fault_proxy_factory(dav_server.base, [
        Rule(Fault("drop"), method="PUT", per_path=1),
        Rule(Fault("503", retry_after="0", maintenance=True), method="MOVE", per_path=1),
    ])
    conn = WebDavConnector(proxy.url("dossiers"), credentials=Credentials(DAV_USER, DAV_PASSWORD), policy=fast_policy())
    res = file_bundle(src, conn, verify_first=False)
    assert (dav_server.root / "dossiers" / "包.zip").read_bytes() == src.read_bytes() and res.size == 300_000
    assert {r.fault for r in proxy.injected()} == {"drop", "503"}

    proxy.set_rules([Rule(Fault("507", retry_after=None), method="PUT")])
    src2 = tmp_path / "大包.zip"
    src2.write_bytes(os.urandom(1000))
    with pytest.raises(FilingError, match=r"存储空间不足.*配额"):
        file_bundle(src2, conn, verify_first=False)
    assert sorted(p.name for p in (dav_server.root / "dossiers").iterdir()) == ["包.zip"]  # nothing half-filed




def test_locked_destination_423_is_retried_until_unlocked(dav_server, dav_credentials, tmp_path):
    folder = dav_server.root / "dossiers"
    folder.mkdir()
    (folder / "包.zip").write_bytes(b"old")
    url = dav_server.url("dossiers")  # the folder is locked by someone else: nothing can be created in it
    lockinfo = ('<?xml version="1.0" encoding="utf-8"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
                "</d:lockscope><d:locktype><d:write/></d:locktype><d:owner>其他用户</d:owner></d:lockinfo>")
    lock = requests.request("LOCK", url, data=lockinfo.encode(), auth=(DAV_USER, DAV_PASSWORD),
                            headers={"Timeout": "Second-60", "Depth": "0", "Content-Type": "application/xml"})
    assert lock.status_code in (200, 201)
    token = lock.headers["Lock-Token"]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        if len(waits) == 2:  # the other user finishes editing
            requests.request("UNLOCK", url, headers={"Lock-Token": token}, auth=(DAV_USER, DAV_PASSWORD))
        time.sleep(0.01)

    conn = WebDavConnector(dav_server.url("dossiers"), credentials=Credentials(DAV_USER, DAV_PASSWORD),
                           policy=fast_policy(sleep=sleep))
    src = tmp_path / "包.zip"
    src.write_bytes(b"new bundle bytes")
    res = file_bundle(src, conn, verify_first=False)
    assert res.size == len(b"new bundle bytes") and (folder / res.name).read_bytes() == b"new bundle bytes"
    assert (folder / "包.zip").read_bytes() == b"old"  # a different bundle is kept, never overwritten
    assert len(waits) >= 2 and [r.status for r in dav_server.log("PUT")][:2] == [423, 423]


def test_refuses_a_bundle_that_does_not_verify(dav_server, bundle, dav_credentials, tmp_path):
    bad = tmp_path / "bad.zip"
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        info = next(i for i in zf.infolist() if "/data/" in i.filename and i.compress_type == zipfile.ZIP_STORED
                    and i.file_size > 100)
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 3
    data[offset] ^= 0x01  # one changed byte inside a stored document
    bad.write_bytes(bytes(data))
    with pytest.raises(FilingError, match="校验未通过"):
        file_bundle(bad, dav_server.url("dossiers"))
    assert dav_server.log("PUT") == [] and dav_server.log("MKCOL") == []


def test_filing_into_a_local_folder_and_nfc_names(bundle, tmp_path, capsys):
    nfd = tmp_path / unicodedata.normalize("NFD", "ガイド-档案包.zip")
    nfd.write_bytes(bundle.read_bytes())
    dest = tmp_path / "人事档案" / "张三"
    res = file_bundle(nfd, dest)
    assert res.name == "ガイド-档案包.zip" and (dest / "ガイド-档案包.zip").read_bytes() == bundle.read_bytes()
    assert file_bundle(nfd, dest).skipped
    assert cli.main(["file", str(nfd), str(dest), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["skipped"] is True and out["sha256"] and out["warnings"] == []
