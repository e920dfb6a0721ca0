"""Signing integrity (docs/SECURITY.md): a signature binds exactly the draft that was signed.

Before: after a re-run produced a new draft, the old signed 交接书 -- naming the old draft's
SHA-256 -- was accepted for the new draft and a final bundle was filed as signed by all three
parties; the re-run also overwrote the draft the signers had seen; and without
DOSSIER_TRUST_ROOT any CA's signature archived at once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import requests
from handover_dossier.app.config import load_settings
from handover_dossier.app.records import registry
from handover_dossier.app.records.owner import SYSTEM
from handover_dossier.app.service import Service
from handover_dossier.app.signing.demosign import DemoCA, make_ca, sign_roles
from handover_dossier.app.web import create_app
from test_app_flows import ALL, SOURCE, LoopbackServer, archive_jobs, click, finished, make_corpus, wait_for
from test_app_nextcloud import NextcloudReplay, auth_headers, exapp_env, replay_received


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def idle(svc: Service) -> None:
    wait_for(lambda: all(j.status in ("done", "failed") for j in svc.queue.list(viewer=SYSTEM)), "queue idle")


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Standalone mode over a local DMS with a configured trust root (as test_app_flows)."""
    monkeypatch.setenv("DOSSIER_PDF", "0")
    for var in ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL", "DOSSIER_MODE"):
        monkeypatch.delenv(var, raising=False)
    make_corpus(tmp_path / "dms" / SOURCE.strip("/"))
    ca = make_ca(tmp_path / "ca")
    return {"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_DMS_ROOT": str(tmp_path / "dms"),
            "DOSSIER_POLL_SECONDS": "3600", "DOSSIER_TRUST_ROOT": str(ca.root_cert), "CA": str(tmp_path / "ca")}


@pytest.fixture()
def running(env: dict[str, str]):
    svc = Service(load_settings(env))
    with LoopbackServer(create_app(svc)) as srv:
        yield svc, srv


def test_old_signature_never_passes_for_a_rerun_draft_and_nothing_is_overwritten(running, env) -> None:
    svc, srv = running
    first = finished(srv, click(srv, etag="e1")["jobs"][0]["id"])
    assert first["status"] == "done", first["error"]
    folder = Path(env["DOSSIER_DMS_ROOT"]) / first["result"]["handover_path"].strip("/")
    cert1 = folder / first["result"]["cert_name"]
    draft1 = folder / first["result"]["draft_name"]
    signed1 = sign_roles(cert1, folder / f"{cert1.stem}.signed_42.pdf", ALL, DemoCA(Path(env["CA"])))
    before = {p.name: sha(p) for p in folder.iterdir()}
    # The folder changes and the archivist runs it again while the first draft is out for signature.
    (Path(env["DOSSIER_DMS_ROOT"]) / SOURCE.strip("/") / "补充说明.txt").write_text("补充材料。", encoding="utf-8")
    second = finished(srv, click(srv, etag="e2")["jobs"][0]["id"])
    assert second["status"] == "done", second["error"]
    r2 = second["result"]
    assert (r2["draft_name"], r2["cert_name"]) == ("张三-2019-2024-档案包草稿（第2版）.zip", "张三-2019-2024-交接书（第2版）.pdf")
    assert r2["sha256"] != first["result"]["sha256"]
    for name, digest in before.items():  # the first draft, its certificate and the signed copy: untouched
        assert sha(folder / name) == digest, name
    assert draft1.is_file() and signed1.is_file()
    # The old signed certificate, presented for the new draft (renamed to its stem), is refused.
    shutil.copy(signed1, folder / "张三-2019-2024-交接书（第2版）.signed_43.pdf")
    svc.poll_once()
    idle(svc)
    assert archive_jobs(svc) == [] and registry.count(svc.engine, viewer=SYSTEM) == 0
    notes = [n for n in svc.notifier.recent(50, viewer=SYSTEM) if n["kind"] == "sign-invalid"]
    assert len(notes) == 1 and "对应另一版档案包草稿" in notes[0]["message"]
    assert first["result"]["sha256"][:16] in notes[0]["message"]
    # The first draft is superseded: its own signed copy no longer archives anything either.
    drafts = requests.get(srv.url + "api/v1/drafts").json()["drafts"]
    assert [d["draft_name"] for d in drafts] == [r2["draft_name"]]
    # Signing the new draft's certificate archives the new draft, as signed.
    cert2 = folder / r2["cert_name"]
    sign_roles(cert2, folder / f"{cert2.stem}.signed_44.pdf", ALL, DemoCA(Path(env["CA"])))
    svc.poll_once()
    done = finished(srv, wait_for(lambda: archive_jobs(svc), "archive job")[0].id)
    assert done["status"] == "done", done["error"]
    assert registry.count(svc.engine, viewer=SYSTEM) == 1


def test_documents_changed_after_signing_are_not_archived_as_signed(running, env) -> None:
    svc, srv = running
    draft = finished(srv, click(srv)["jobs"][0]["id"])
    folder = Path(env["DOSSIER_DMS_ROOT"]) / draft["result"]["handover_path"].strip("/")
    cert = folder / draft["result"]["cert_name"]
    sign_roles(cert, folder / f"{cert.stem}.signed_42.pdf", ALL, DemoCA(Path(env["CA"])))
    # Someone edits a document after the three parties signed for the draft's contents.
    (Path(env["DOSSIER_DMS_ROOT"]) / SOURCE.strip("/") / "固定资产清单.txt").write_text("改过的清单", encoding="utf-8")
    svc.poll_once()
    job = finished(srv, wait_for(lambda: archive_jobs(svc), "archive job")[0].id)
    assert job["status"] == "failed" and "生成草稿后有改动" in job["error"]
    assert registry.count(svc.engine, viewer=SYSTEM) == 0
    assert not (Path(env["DOSSIER_DMS_ROOT"]) / "干部人事档案").exists()


# -- without a trust root: valid signatures wait for an archivist -----------------------------
A, STAFF, GROUP = "archivist", "dana", "档案管理员"


@pytest.fixture()
def untrusted(tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOSSIER_PDF", "0")
    nc = NextcloudReplay(shared_dir)
    nc.groups[STAFF] = [GROUP]
    env = {k: v for k, v in exapp_env(tmp_path, nc).items() if k != "DOSSIER_TRUST_ROOT"}
    env["DOSSIER_ARCHIVIST_GROUP"] = GROUP
    svc = Service(load_settings(env))
    try:
        with LoopbackServer(create_app(svc)) as srv:
            yield svc, srv, env, shared_dir
    finally:
        nc.close()


def test_without_a_trust_root_archival_waits_for_an_archivist(untrusted, tmp_path: Path) -> None:
    svc, srv, env, shared_dir = untrusted
    assert svc.settings.trust_root is None
    job_id = replay_received(shared_dir, "appapi-exapp-received-file-action", srv, user=A).json()["jobs"][0]["id"]
    job = wait_for(lambda: (j := svc.queue.get(job_id)).status in ("done", "failed") and j, "draft")
    assert job.status == "done", job.error
    folder = Path(env["DOSSIER_DMS_ROOT"]) / A / job.result["handover_path"].strip("/")
    cert = folder / job.result["cert_name"]
    # Signed by a CA nobody configured: cryptographically valid, identity unknown.
    stranger = make_ca(tmp_path / "stranger-ca", name="来历不明的根证书")
    sign_roles(cert, folder / f"{cert.stem}.signed_42.pdf", ALL, stranger)
    svc.poll_once()
    idle(svc)
    assert archive_jobs(svc) == [] and registry.count(svc.engine, viewer=SYSTEM) == 0
    note = next(n for n in svc.notifier.recent(50, viewer=SYSTEM) if n["kind"] == "sign-unverified")
    assert "签名有效但签署人身份未核验" in note["subject"] and "档案管理员" in note["message"]
    (d,) = requests.get(srv.url + "api/v1/drafts", headers=auth_headers(A)).json()["drafts"]
    assert d["status"] == "confirm" and d["signers"] == ["张三", "李四", "王五"]
    page = requests.get(srv.url + "status", headers=auth_headers(A)).text
    assert "待确认的签署" in page and "等待档案管理员确认" in page and 'name="draft"' not in page
    # The owner cannot wave it through; another ordinary user does not even see it.
    r = requests.post(srv.url + f"api/v1/drafts/{d['id']}/confirm", headers=auth_headers(A))
    assert r.status_code == 403 and "档案管理员" in r.json()["error"]
    assert requests.get(srv.url + "api/v1/drafts", headers=auth_headers("bob")).json()["drafts"] == []
    assert archive_jobs(svc) == []
    # An archivist confirms: now it is archived, and the registry says who vouched for it.
    assert f'name="draft" value="{d["id"]}"' in requests.get(srv.url + "status", headers=auth_headers(STAFF)).text
    r = requests.post(srv.url + f"api/v1/drafts/{d['id']}/confirm", headers=auth_headers(STAFF))
    assert r.status_code == 200, r.text
    done = wait_for(lambda: (j := svc.queue.get(r.json()["job"])).status in ("done", "failed") and j, "archive")
    assert done.status == "done", done.error
    (rec,) = registry.search(svc.engine, viewer=SYSTEM)
    assert rec["user"] == A and rec["signatures"]["confirmed_by"] == STAFF
    assert rec["signatures"]["valid"] and not rec["signatures"]["identity_verified"]
    again = requests.post(srv.url + f"api/v1/drafts/{d['id']}/confirm", headers=auth_headers(STAFF))
    assert again.status_code == 409
    assert json.loads(json.dumps(rec["signatures"]))["draft_sha256"] == job.result["sha256"]
