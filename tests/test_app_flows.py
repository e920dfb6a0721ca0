"""The three flows end to end in standalone mode (local folders as the DMS), over real HTTP:
Files-menu assembly with progress, archival once the 交接书 is signed (idempotent), retrieval
with verification and an access log; plus restart-resume, cases and deadlines, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from handover_dossier.app.config import load_settings
from handover_dossier.app.records import registry
from handover_dossier.app.records.owner import SYSTEM
from handover_dossier.app.service import Service
from handover_dossier.app.signing.demosign import make_ca, sign_roles
from handover_dossier.app.web import create_app
from handover_dossier.samplecorpus.docgen import write_docx, write_txt

ALL = {"sig_outgoing": "张三", "sig_incoming": "李四", "sig_supervisor": "王五"}
SOURCE = "/交接材料/张三-2019-2024"


class LoopbackServer:
    """uvicorn serving an ASGI app on 127.0.0.1 in a thread."""

    def __init__(self, app) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        wait_for(lambda: self.server.started, "server start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def wait_for(cond: Callable[[], object], what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def make_corpus(folder: Path) -> None:
    (folder / "计划").mkdir(parents=True)
    write_docx(folder / "计划" / "2021年工作要点.docx", "云溪县交通运输局2021年工作要点",
               ["2021年，全局将着力推进农村公路建设。", "一、加快重点项目建设。"])
    write_txt(folder / "2023年度工作总结.txt", "云溪县交通运输局2023年度工作总结", ["一年来，全局圆满完成了各项目标任务。"])
    write_txt(folder / "固定资产清单.txt", "固定资产清单", ["资产编号\t名称\t原值", "GZ001\t办公电脑\t6000"])
    (folder / "空文件.docx").write_bytes(b"")


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("DOSSIER_PDF", "0")  # LibreOffice renditions are not what these tests are about
    for var in ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL"):
        monkeypatch.delenv(var, raising=False)
    make_corpus(tmp_path / "dms" / SOURCE.strip("/"))
    ca = make_ca(tmp_path / "ca")
    return {"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_DMS_ROOT": str(tmp_path / "dms"),
            "DOSSIER_POLL_SECONDS": "3600", "DOSSIER_TRUST_ROOT": str(ca.root_cert), "CA": str(tmp_path / "ca")}


@pytest.fixture()
def running(env: dict[str, str]) -> Iterator[tuple[Service, LoopbackServer]]:
    svc = Service(load_settings(env))
    with LoopbackServer(create_app(svc)) as srv:
        yield svc, srv


def click(srv: LoopbackServer, etag: str = "6b071ca8d4c6b") -> dict:
    """What AppAPI's NC 28+ Files app posts for a v2 action on one folder."""
    node = {"fileId": 326, "name": "张三-2019-2024", "directory": "/交接材料", "etag": etag,
            "mime": "httpd/unix-directory", "fileType": "dir", "permissions": 31, "userId": "archivist"}
    r = requests.post(srv.url + "api/v1/files-action", json={"files": [node]}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def job(srv: LoopbackServer, job_id: int) -> dict:
    return requests.get(srv.url + f"api/v1/jobs/{job_id}", timeout=10).json()


def finished(srv: LoopbackServer, job_id: int) -> dict:
    return wait_for(lambda: (j := job(srv, job_id))["status"] in ("done", "failed") and j, f"job {job_id}")


def assemble_draft(svc: Service, srv: LoopbackServer) -> dict:
    answer = click(srv)
    j = finished(srv, answer["jobs"][0]["id"])
    assert j["status"] == "done", j["error"]
    return j


def sign(env: dict[str, str], svc: Service, draft: dict, signers: dict[str, str], suffix: str = ".signed_42") -> Path:
    from handover_dossier.app.signing.demosign import DemoCA

    folder = Path(env["DOSSIER_DMS_ROOT"]) / draft["result"]["handover_path"].strip("/")
    cert = folder / draft["result"]["cert_name"]
    return sign_roles(cert, folder / f"{cert.stem}{suffix}.pdf", signers, DemoCA(Path(env["CA"])))


def archive_jobs(svc: Service) -> list:
    return [j for j in svc.queue.list(viewer=SYSTEM) if j.kind == "archive"]


def test_files_menu_click_answers_at_once_and_assembles_a_draft(running, env) -> None:
    svc, srv = running
    answer = click(srv)
    assert answer["status"] == "accepted" and answer["redirect_handler"] == "status"
    assert answer["jobs"][0]["created"] is True and answer["jobs"][0]["path"] == SOURCE
    j = finished(srv, answer["jobs"][0]["id"])
    assert j["status"] == "done", j["error"]
    # progress was recorded per stage while the job ran
    for stage in ("fetch", "classify", "assemble"):
        assert j["progress"][stage]["done"] == j["progress"][stage]["total"]
    assert 3 <= j["progress"]["fetch"]["total"] <= 4  # the empty file may be screened out before fetching
    r = j["result"]
    assert r["documents"] == 4 and r["items"] == 3 and r["exceptions"] == 1
    folder = Path(env["DOSSIER_DMS_ROOT"]) / "交接材料" / "张三-2019-2024-交接"
    assert sorted(p.name for p in folder.iterdir()) == ["张三-2019-2024-交接书.pdf", "张三-2019-2024-档案包草稿.zip"]
    with zipfile.ZipFile(folder / "张三-2019-2024-档案包草稿.zip") as zf:
        index = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("data/index.json"))))
    assert index["bundle"]["leader"] == "张三" and index["bundle"]["term"] == {"start": "2019-01-01", "end": "2024-12-31"}
    # the same folder at the same etag is not assembled twice; a changed folder is
    again = click(srv)
    assert again["jobs"][0]["id"] == answer["jobs"][0]["id"] and again["jobs"][0]["created"] is False
    changed = click(srv, etag="7c182db9e5d7c")
    assert changed["jobs"][0]["id"] != answer["jobs"][0]["id"]
    finished(srv, changed["jobs"][0]["id"])
    kinds = [n["kind"] for n in svc.notifier.recent(50, viewer=SYSTEM)]
    assert kinds.count("queued") == 2 and kinds.count("done") == 2


def test_files_menu_rejects_files_and_garbage(running) -> None:
    _svc, srv = running
    r = requests.post(srv.url + "api/v1/files-action", json={"files": [{"fileId": 1, "name": "a.pdf", "directory": "/",
                                                                        "mime": "application/pdf", "fileType": "file"}]})
    assert r.status_code == 400 and "文件夹" in r.json()["error"]
    r = requests.post(srv.url + "api/v1/files-action", data=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = requests.post(srv.url + "api/v1/files-action", json={"something": "else"})
    assert r.status_code == 400


def test_signed_certificate_is_archived_once_and_can_be_fetched_back(running, env, tmp_path: Path) -> None:
    svc, srv = running
    draft = assemble_draft(svc, srv)
    signed = sign(env, svc, draft, ALL)
    # Webhook first (ack at once, work in a job) ...
    envelope = {"event": {"class": "OCP\\Files\\Events\\Node\\NodeCreatedEvent",
                          "node": {"id": 501, "path": f"/archivist/files{draft['result']['handover_path']}/{signed.name}"}},
                "user": {"uid": "archivist", "displayName": "档案管理员"}, "time": 1795628300}
    r = requests.post(srv.url + "api/v1/webhook", json=envelope, timeout=10)
    assert r.status_code == 200 and r.json()["duplicate"] is False
    finished(srv, r.json()["job"])
    archive = wait_for(lambda: archive_jobs(svc), "archive job")[0]
    done = finished(srv, archive.id)
    assert done["status"] == "done", done["error"]
    # ... then the same event again, and the poller: nothing is filed twice
    r2 = requests.post(srv.url + "api/v1/webhook", json=envelope, timeout=10)
    assert r2.json()["duplicate"] is True
    svc.poll_once()
    wait_for(lambda: all(j.status in ("done", "failed") for j in svc.queue.list(viewer=SYSTEM)), "queue idle")
    dossier = Path(env["DOSSIER_DMS_ROOT"]) / "干部人事档案" / "张三"
    filed = list(dossier.iterdir())
    assert len(filed) == 1 and filed[0].name == done["result"]["name"]
    assert len(archive_jobs(svc)) == 1 and registry.count(svc.engine, viewer=SYSTEM) == 1
    assert [n["kind"] for n in svc.notifier.recent(50, viewer=SYSTEM)].count("archived") == 1
    # the final bundle carries the signed certificate, catalogued as 交接书
    with zipfile.ZipFile(filed[0]) as zf:
        index = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("data/index.json"))))
    p2 = [it for it in index["items"] if it["code"] == "P2"]
    assert len(p2) == 1 and p2[0]["source"] == f"交接书（已签署）/{signed.name}"
    # registry: searchable by leader, year, category, title text (either script)
    code = done["result"]["archival_code"]
    api = requests.get(srv.url + "api/v1/bundles", params={"leader": "张三", "year": "2021", "category": "C1"}).json()
    assert [b["archival_code"] for b in api["bundles"]] == [code]
    assert requests.get(srv.url + "api/v1/bundles", params={"q": "工作總結"}).json()["bundles"][0]["archival_code"] == code
    assert requests.get(srv.url + "api/v1/bundles", params={"year": "2030"}).json()["bundles"] == []
    detail = requests.get(srv.url + "api/v1/bundles/" + code).json()
    assert detail["counts"]["P2"] == 1 and len(detail["catalogue"]) == index["summary"]["items"]
    assert [s["signer"] for s in detail["signatures"]["signatures"]] == ["张三", "李四", "王五"]
    # retrieval over HTTP: verified before it is handed over, and logged
    dl = requests.get(srv.url + "api/v1/bundles/" + code + "/download", timeout=60)
    assert dl.status_code == 200 and dl.content == filed[0].read_bytes()
    log = requests.get(srv.url + "api/v1/access-log", params={"code": code}).json()["entries"]
    assert log[0]["action"] == "download" and log[0]["result"] == "ok" and log[0]["who"] == "本机用户"
    # tampering with the filed bundle in the DMS is caught; nothing is handed over
    data = bytearray(filed[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    filed[0].write_bytes(bytes(data))
    bad = requests.get(srv.url + "api/v1/bundles/" + code + "/download", timeout=60)
    assert bad.status_code == 409 and any("SHA-256" in p for p in bad.json()["problems"])
    log = requests.get(srv.url + "api/v1/access-log", params={"code": code}).json()["entries"]
    assert log[0]["result"] == "verify-failed"


def test_missing_or_tampered_signatures_are_not_archived(running, env) -> None:
    svc, srv = running
    draft = assemble_draft(svc, srv)
    sign(env, svc, draft, {"sig_outgoing": "张三", "sig_incoming": "李四"}, suffix=".已签名_7")
    svc.poll_once()
    wait_for(lambda: any(n["kind"] == "sign-invalid" for n in svc.notifier.recent(viewer=SYSTEM)), "rejection notice")
    note = next(n for n in svc.notifier.recent(viewer=SYSTEM) if n["kind"] == "sign-invalid")
    assert "缺少有效签名：监交人" in note["message"]
    full = sign(env, svc, draft, ALL, suffix=".signed_8")
    data = bytearray(full.read_bytes())
    pos = data.find(b"BT")
    data[pos + 4] ^= 0x01
    full.write_bytes(bytes(data))
    svc.poll_once()
    wait_for(lambda: len([n for n in svc.notifier.recent(viewer=SYSTEM) if n["kind"] == "sign-invalid"]) == 2, "second rejection")
    assert "签署后内容被改动" in svc.notifier.recent(viewer=SYSTEM)[0]["message"]
    # polling again re-checks nothing (same files, same etags) and archives nothing
    svc.poll_once()
    wait_for(lambda: all(j.status in ("done", "failed") for j in svc.queue.list(viewer=SYSTEM)), "queue idle")
    assert archive_jobs(svc) == [] and registry.count(svc.engine, viewer=SYSTEM) == 0
    assert len([n for n in svc.notifier.recent(50, viewer=SYSTEM) if n["kind"] == "sign-invalid"]) == 2
    assert not (Path(env["DOSSIER_DMS_ROOT"]) / "干部人事档案").exists()


def test_interrupted_job_resumes_after_restart(env) -> None:
    from handover_dossier.app import flows

    first = Service(load_settings(env))
    node = {"fileId": 326, "name": "张三-2019-2024", "directory": "/交接材料", "etag": "e1", "mime": "httpd/unix-directory"}
    queued, _ = flows.enqueue_assemble(first, node, "archivist")
    claimed = first.queue._claim()  # a worker took it ... and the process died before finishing
    assert claimed is not None and claimed.id == queued.id and first.queue.get(queued.id).status == "running"
    del first
    second = Service(load_settings(env))
    with LoopbackServer(create_app(second)) as srv:  # starting the service resumes the job
        j = finished(srv, queued.id)
    assert j["status"] == "done", j["error"]
    assert second.queue.get(queued.id).attempts == 2
    # and the same click after the restart still maps to that one job
    again, created = flows.enqueue_assemble(second, node, "archivist")
    assert again.id == queued.id and not created


def test_cases_days_left_and_deadline_notifications(env) -> None:
    today = dt.date(2024, 7, 20)
    svc = Service(load_settings(env), today=lambda: today)
    with LoopbackServer(create_app(svc)) as srv:
        r = requests.post(srv.url + "api/v1/cases", json={"leader": "张三", "post": "局长", "unit": "云溪县交通运输局",
                                                           "announced": "2024-07-10", "incoming": "李四"})
        assert r.status_code == 201 and r.json()["days_left"] == 5 and r.json()["deadline"] == "2024-07-25"
        assert requests.post(srv.url + "api/v1/cases", json={"leader": "", "announced": "2024-07-10"}).status_code == 400
        assert requests.post(srv.url + "api/v1/cases", json={"leader": "王五", "announced": "7月10日"}).status_code == 400
        html = requests.get(srv.url + "cases").text
        assert "张三" in html and "5 天" in html
    svc.poll_once()
    kinds = [n["kind"] for n in svc.notifier.recent(viewer=SYSTEM)]
    assert kinds == ["deadline-draft"]  # 10 days: no draft yet; the 15-day limit not reached
    today = dt.date(2024, 7, 26)
    svc.poll_once()
    svc.poll_once()
    kinds = [n["kind"] for n in svc.notifier.recent(viewer=SYSTEM)]
    assert kinds == ["deadline-limit", "deadline-draft"]  # each sent once
    assert "超过 15 天" in svc.notifier.recent(viewer=SYSTEM)[0]["message"]


def test_case_linked_folder_gives_the_bundle_its_metadata(running, env) -> None:
    svc, srv = running
    requests.post(srv.url + "api/v1/cases", json={
        "leader": "张三", "post": "局长", "unit": "云溪县交通运输局", "announced": dt.date.today().isoformat(),
        "incoming": "李四", "term_start": "2019-03-01", "term_end": "2024-06-30", "folder": SOURCE}).raise_for_status()
    draft = assemble_draft(svc, srv)
    folder = Path(env["DOSSIER_DMS_ROOT"]) / draft["result"]["handover_path"].strip("/")
    with zipfile.ZipFile(folder / draft["result"]["draft_name"]) as zf:
        b = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("data/index.json"))))["bundle"]
    assert (b["unit"], b["post"], b["incoming"], b["term"]["start"]) == ("云溪县交通运输局", "局长", "李四", "2019-03-01")
    case = requests.get(srv.url + "api/v1/cases").json()["cases"][0]
    assert case["draft_at"] is not None
    sign(env, svc, draft, ALL)
    svc.poll_once()
    finished(srv, wait_for(lambda: archive_jobs(svc), "archive job")[0].id)
    assert requests.get(srv.url + "api/v1/cases").json()["cases"] == []  # filed: the case is closed


class Cli:
    """``dossier`` run in-process with the service's environment (real argument parsing,
    settings loading and output; no subprocess start-up cost)."""

    def __init__(self, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
        for k, v in env.items():
            if k.startswith("DOSSIER_"):
                monkeypatch.setenv(k, v)
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        from handover_dossier.cli import main

        self.capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse / settings errors
            code = int(exc.code or 0)
        out = self.capsys.readouterr()
        return code, out.out, out.err


def test_cli_query_fetch_and_case(running, env, tmp_path: Path, monkeypatch, capsys) -> None:
    svc, srv = running
    cli = Cli(env, monkeypatch, capsys)
    draft = assemble_draft(svc, srv)
    sign(env, svc, draft, ALL)
    svc.poll_once()
    code = finished(srv, wait_for(lambda: archive_jobs(svc), "archive job")[0].id)["result"]["archival_code"]
    rc, out, err = cli("query", "--leader", "张三", "--category", "C2", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    assert [r["archival_code"] for r in rows] == [code] and rows[0]["counts"]["C2"] == 1
    assert json.loads(cli("query", "不存在的题名", "--json")[1]) == []
    rc, out, _ = cli("query", "--year", "2020")
    assert code in out and "共 1 个档案包" in out
    rc, out, _ = cli("--lang", "zh-Hant", "query", "--year", "2020")
    assert "共 1 個檔案包" in out
    pulled = tmp_path / "pulled"
    rc, out, err = cli("fetch", code, "-o", str(pulled), "--user", "调阅人甲")
    assert rc == 0, err
    assert "校验通过" in out and len(list(pulled.glob("*.zip"))) == 1
    rc, _out, err = cli("fetch", "0000-NOPE", "-o", str(pulled))
    assert rc == 2 and "没有档号" in err
    log = registry.access_entries(svc.engine, code, viewer=SYSTEM)
    assert (log[0]["who"], log[0]["action"], log[0]["result"]) == ("调阅人甲", "fetch", "ok")
    assert registry.access_entries(svc.engine, "0000-NOPE", viewer=SYSTEM)[0]["result"] == "not-found"
    rc, out, err = cli("case", "open", "--leader", "赵六", "--announced", dt.date.today().isoformat(), "--unit", "某县审计局",
                       "--json")
    assert rc == 0, err
    assert json.loads(out)["days_left"] == 15
    assert "赵六" in cli("case", "list")[1]
    assert cli("case", "open", "--leader", "赵六", "--announced", "昨天")[0] == 2


def csrf_token(page: str) -> str:
    """The CSRF token a standalone page puts in its forms."""
    import re

    return re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)


def test_standalone_form_starts_a_job_on_a_local_folder(running) -> None:
    _svc, srv = running
    page = requests.get(srv.url + "status").text
    assert f'<option value="{SOURCE}">' in page
    token = csrf_token(page)
    r = requests.post(srv.url + "assemble", data={"folder": SOURCE, "csrf": token}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("status?job=")
    job_id = int(r.headers["location"].split("=")[1])
    assert finished(srv, job_id)["status"] == "done"
    assert requests.post(srv.url + "assemble", data={"folder": "/不存在", "csrf": token}).status_code == 400
    assert requests.post(srv.url + "assemble", data={"folder": "/../etc", "csrf": token}).status_code == 400
