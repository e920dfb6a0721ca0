"""The ExApp against Nextcloud, replayed from the real recorded exchanges.

What Nextcloud sends us (heartbeat, init, enable/disable, the Files-menu click) is replayed
from ``shared/fixtures/nextcloud/appapi-exapp-received-*.json`` over real HTTP to the app
served by uvicorn on loopback. What we send to Nextcloud goes to a small loopback server that
answers with the recorded responses and keeps the requests, which must have the recorded
requests' shape (``appapi-register-files-action-v2.json``, ``appapi-notification.json``).

Who a user is (``GET /ocs/v2.php/cloud/user``) is answered with the recorded
``ocs-v2-cloud-user.json`` — archivist's answer, member of no group. For the other users the
tests need (a second user, an administrator, a member of the archivist group) the same
recorded answer is sent with its ``id`` and ``groups`` changed as Nextcloud fills them for
that user (``id`` = the user in AUTHORIZATION-APP-API; administrators are members of the
group ``admin``); no other recording shows those users.

Not among the recordings (a Nextcloud 27 + AppAPI 3.1 server without webhook_listeners):
the init-status, top-menu and script registration calls (answered here with the recorded
OCS v1 success envelope of the files-action registration), and webhook_listeners (Nextcloud
30+; the recorded server does not have it, so by default it answers 404 here; the request
shape in the "available" variant is built from docs/nextcloud-integration.md §2.1).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import requests
from handover_dossier.app.config import load_settings
from handover_dossier.app.records import registry
from handover_dossier.app.records.owner import SYSTEM
from handover_dossier.app.service import Service
from handover_dossier.app.signing.demosign import make_ca, sign_roles
from handover_dossier.app.web import create_app
from test_app_flows import LoopbackServer, make_corpus, wait_for

SECRET = "s3cret-for-tests-only-" + "x" * 40
APP_ID = "nc_stub_exapp"  # the app id in the recordings
TRANSPORT = {"host", "content-length", "accept-encoding", "connection", "user-agent"}


def fixture(shared: Path, name: str) -> dict:
    return json.loads((shared / "fixtures" / "nextcloud" / f"{name}.json").read_text(encoding="utf-8"))


def token(user: str, secret: str = SECRET) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


class NextcloudReplay:
    """Loopback stand-in for Nextcloud that answers with recorded responses."""

    def __init__(self, shared: Path, *, webhooks: bool = False) -> None:
        self.requests: list[dict] = []
        self.webhooks = webhooks
        ok = fixture(shared, "appapi-register-files-action-v1")["response"]["body"]  # OCS v1 success envelope
        self.routes: dict[tuple[str, str], tuple[int, str]] = {}
        for name in ("appapi-register-files-action-v1", "appapi-register-files-action-v2", "appapi-notification",
                     "appapi-get-files-action", "appapi-webdav-propfind"):
            f = fixture(shared, name)
            self.routes[(f["request"]["method"], unquote(urlsplit(f["request"]["url_path"]).path))] = (
                f["response"]["status"], f["response"]["body"])
        # Routes AppAPI 3.1 has but the recordings do not show: the recorded v1 success envelope.
        for method, path in (("PUT", "/ocs/v1.php/apps/app_api/ex-app/status"),
                             ("POST", "/ocs/v1.php/apps/app_api/api/v1/ui/top-menu"),
                             ("POST", "/ocs/v1.php/apps/app_api/api/v1/ui/script")):
            self.routes[(method, path)] = (200, ok)
        self.denied = fixture(shared, "appapi-wrong-secret-401")["response"]
        self.cloud_user = fixture(shared, "ocs-v2-cloud-user")["response"]
        #: user -> groups Nextcloud reports for them (default: none, as recorded for archivist)
        self.groups: dict[str, list[str]] = {}
        self.ok_body = ok
        self.reject_all = False
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                parts = urlsplit(self.path)
                replay.requests.append({"method": self.command, "path": unquote(parts.path), "query": parts.query,
                                        "headers": dict(self.headers.items()), "body": body})
                status, text = replay.answer(self.command, unquote(parts.path), self.headers)
                data = text.encode("utf-8")
                self.send_response(status)
                xml = text.startswith("<?xml")
                self.send_header("Content-Type", f"application/{'xml' if xml else 'json'}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PROPFIND = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, method: str, path: str, headers) -> tuple[int, str]:
        auth = headers.get("AUTHORIZATION-APP-API") or ""
        try:
            user, _, secret = base64.b64decode(auth).decode().partition(":")
        except ValueError:
            user, secret = "", ""
        if self.reject_all or secret != SECRET or headers.get("EX-APP-ID") != APP_ID:
            return self.denied["status"], self.denied["body"]  # appapi-wrong-secret-401.json
        if path.startswith("/ocs/v1.php/apps/webhook_listeners/"):
            # Built from docs §2.1 (no recording exists); the recorded server lacks the app -> 404.
            return (200, self.ok_body) if self.webhooks else (404, "")
        if (method, path) == ("GET", "/ocs/v2.php/cloud/user"):
            body = json.loads(self.cloud_user["body"])
            body["ocs"]["data"].update(id=user, groups=self.groups.get(user, []))
            return self.cloud_user["status"], json.dumps(body)
        return self.routes.get((method, path), (404, ""))

    def sent(self, path_part: str, method: str | None = None) -> list[dict]:
        return [r for r in self.requests if path_part in r["path"] and (method is None or r["method"] == method)]

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture()
def nextcloud(shared_dir: Path):
    nc = NextcloudReplay(shared_dir)
    yield nc
    nc.close()


def exapp_env(tmp_path: Path, nc: NextcloudReplay, poll: str = "3600") -> dict[str, str]:
    # ExApp mode with a local DMS: one folder of files per Nextcloud user, like Nextcloud.
    make_corpus(tmp_path / "dms" / "archivist" / "交接材料" / "张三-2019-2024")
    ca = make_ca(tmp_path / "ca")
    return {"APP_ID": APP_ID, "APP_SECRET": SECRET, "APP_VERSION": "1.0.0", "APP_PORT": "9032", "AA_VERSION": "3.1.0",
            "NEXTCLOUD_URL": nc.url, "DOSSIER_DATA_DIR": str(tmp_path / "data"),
            # Nextcloud's files are replaced by a local folder here: a whole assembly cannot be replayed
            # from the recorded WebDAV exchanges (the WebDAV path is the connectors' tests' job).
            "DOSSIER_DMS_ROOT": str(tmp_path / "dms"), "DOSSIER_POLL_SECONDS": poll,
            "DOSSIER_TRUST_ROOT": str(ca.root_cert), "CA": str(tmp_path / "ca")}


@pytest.fixture()
def exapp(tmp_path: Path, nextcloud: NextcloudReplay, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DOSSIER_PDF", "0")
    env = exapp_env(tmp_path, nextcloud)
    svc = Service(load_settings(env))
    assert svc.settings.exapp
    with LoopbackServer(create_app(svc)) as srv:
        yield svc, srv, env


def replay_received(shared: Path, name: str, srv: LoopbackServer, user: str = "") -> requests.Response:
    """Send what Nextcloud sent the recorded ExApp, with a real secret in place of <redacted>."""
    req = fixture(shared, name)["request"]
    headers = {k: v for k, v in req["headers"].items() if k.lower() not in TRANSPORT}
    if "AUTHORIZATION-APP-API" in headers:
        headers["AUTHORIZATION-APP-API"] = token(user)
    return requests.request(req["method"], srv.url.rstrip("/") + req["url_path"], headers=headers,
                            data=req["body"].encode("utf-8"), timeout=30)


def test_lifecycle_calls_as_recorded(exapp, nextcloud: NextcloudReplay, shared_dir: Path) -> None:
    svc, srv, _env = exapp
    hb = replay_received(shared_dir, "appapi-exapp-received-heartbeat", srv)
    assert hb.status_code == 200 and hb.json() == json.loads(fixture(shared_dir, "appapi-exapp-received-heartbeat")["response"]["body"])
    # The recorded stub answered /init with 404 ("no init step"); we do initialise, answer at once
    # and report progress 100 asynchronously (docs §1.2).
    init = replay_received(shared_dir, "appapi-exapp-received-init", srv)
    assert init.status_code == 200
    status = wait_for(lambda: nextcloud.sent("/ex-app/status", "PUT"), "init status")[0]
    assert json.loads(status["body"]) == {"progress": 100, "error": ""}
    for name in ("appapi-exapp-received-enabled-on-register", "appapi-exapp-received-disable",
                 "appapi-exapp-received-enable"):
        r = replay_received(shared_dir, name, srv)
        assert r.status_code == 200, name
        assert r.json() == json.loads(fixture(shared_dir, name)["response"]["body"]) == {"error": ""}
    # On enable: the Files-menu action for folders, in the recorded request's shape.
    recorded = fixture(shared_dir, "appapi-register-files-action-v2")["request"]
    regs = nextcloud.sent("/ui/files-actions-menu", "POST")
    assert len(regs) == 2  # enabled on register, and enabled again
    reg = regs[0]
    assert reg["path"] == unquote(urlsplit(recorded["url_path"]).path) and reg["query"] == urlsplit(recorded["url_path"]).query
    body, rec_body = json.loads(reg["body"]), json.loads(recorded["body"])
    assert list(body) == list(rec_body)
    assert body == {**rec_body, "name": "handover_dossier", "displayName": "生成交接档案包",
                    "actionHandler": "/api/v1/files-action"}
    assert body["mime"] == "httpd/unix-directory"
    want = {k: v for k, v in recorded["headers"].items() if k.lower() not in TRANSPORT}
    got = {k.lower(): v for k, v in reg["headers"].items()}
    for k, v in want.items():
        assert k.lower() in got, k
        if k != "AUTHORIZATION-APP-API":
            assert got[k.lower()] == v, k
    assert base64.b64decode(got["authorization-app-api"]).decode() == f":{SECRET}"  # system context (occ)
    # The recorded server has no webhook_listeners: enabling still succeeds and the app polls.
    assert nextcloud.sent("/webhook_listeners/", "DELETE") and svc.webhooks == []
    page = requests.get(srv.url + "status", headers=auth_headers("archivist")).text
    assert "每 3600 秒检查一次" in page and "已注册 Nextcloud webhook" not in page


def auth_headers(user: str, secret: str = SECRET, app_id: str = APP_ID, version: str = "1.0.0") -> dict[str, str]:
    return {"EX-APP-ID": app_id, "EX-APP-VERSION": version, "AA-VERSION": "3.1.0",
            "AUTHORIZATION-APP-API": token(user, secret)}


ENDPOINTS = [
    ("POST", "init"), ("PUT", "enabled?enabled=1"), ("POST", "api/v1/files-action"), ("POST", "api/v1/webhook"),
    ("GET", "api/v1/jobs"), ("GET", "api/v1/bundles"), ("GET", "api/v1/bundles/X/download"), ("GET", "api/v1/cases"),
    ("POST", "api/v1/cases"), ("GET", "api/v1/access-log"), ("GET", "search"), ("GET", "status"), ("GET", "cases"),
    ("GET", "bundle?code=X"), ("GET", "download?code=X"), ("POST", "verify?code=X"), ("GET", ""),
    ("GET", "js/dossier-embed.js"), ("GET", "img/icon.svg"), ("GET", "no-such-page"),
]


def test_everything_but_the_heartbeat_needs_appapi_headers(exapp, nextcloud: NextcloudReplay) -> None:
    _svc, srv, _env = exapp
    bad = {
        "none": {},
        "wrong secret": auth_headers("archivist", secret="guess"),
        "wrong app": auth_headers("archivist", app_id="other_app"),
        "no version": {k: v for k, v in auth_headers("archivist").items() if k != "EX-APP-VERSION"},
        "not base64": {**auth_headers("archivist"), "AUTHORIZATION-APP-API": "%%%"},
    }
    for method, path in ENDPOINTS:
        for label, headers in bad.items():
            r = requests.request(method, srv.url + path, headers=headers, json={}, allow_redirects=False, timeout=10)
            assert r.status_code == 401, (method, path, label)
            assert SECRET not in r.text and "guess" not in r.text
    assert requests.get(srv.url + "heartbeat", timeout=10).status_code == 200
    assert nextcloud.requests == []  # refused requests never reach Nextcloud
    ok = requests.get(srv.url + "api/v1/jobs", headers=auth_headers("archivist"), timeout=10)
    assert ok.status_code == 200 and ok.json()["jobs"] == []  # the poller's scans are the service's, nobody's


def test_recorded_click_queues_notifies_and_polling_alone_archives(tmp_path: Path, nextcloud: NextcloudReplay,
                                                                    shared_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_PDF", "0")
    env = exapp_env(tmp_path, nextcloud, poll="1")
    svc = Service(load_settings(env))
    with LoopbackServer(create_app(svc)) as srv:
        assert replay_received(shared_dir, "appapi-exapp-received-enabled-on-register", srv).json() == {"error": ""}
        click = replay_received(shared_dir, "appapi-exapp-received-file-action", srv, user="archivist")
        assert click.status_code == 200
        answer = click.json()
        assert answer["status"] == "accepted" and answer["redirect_handler"] == "dossier"
        job_id = answer["jobs"][0]["id"]
        job = wait_for(lambda: (j := svc.queue.get(job_id)).status in ("done", "failed") and j, "draft")
        assert job.status == "done", job.error
        assert job.user == "archivist" and job.payload["file_id"] == "326" and job.payload["etag"] == "6b071ca8d4c6b"
        # notifications went to Nextcloud as archivist, in the recorded shape
        notes = wait_for(lambda: len(nextcloud.sent("/api/v1/notification", "POST")) >= 2 and
                         nextcloud.sent("/api/v1/notification", "POST"), "notifications")
        recorded = json.loads(fixture(shared_dir, "appapi-notification")["request"]["body"])
        for n in notes:
            assert n["query"] == "format=json"
            body = json.loads(n["body"])
            assert list(body) == ["params"] and list(body["params"]) == list(recorded["params"])
            assert list(body["params"]["subject_params"]) == list(recorded["params"]["subject_params"])
            assert body["params"]["subject_type"] == "app_api_ex_app"
            assert body["params"]["subject_params"]["link"].startswith(nextcloud.url + "/index.php/apps/")
            assert base64.b64decode(n["headers"]["AUTHORIZATION-APP-API"]).decode() == f"archivist:{SECRET}"
        subjects = [json.loads(n["body"])["params"]["subject_params"]["rich_subject"] for n in notes]
        assert subjects[:2] == ["已开始生成交接档案包：张三-2019-2024", "交接档案包草稿已生成：张三-2019-2024"]
        # Sign; no webhook exists on this server: the poller alone must find and archive it.
        folder = Path(env["DOSSIER_DMS_ROOT"]) / "archivist" / job.result["handover_path"].strip("/")
        cert = folder / job.result["cert_name"]
        from handover_dossier.app.signing.demosign import DemoCA

        sign_roles(cert, folder / f"{cert.stem}.signed_42.pdf",
                   {"sig_outgoing": "张三", "sig_incoming": "李四", "sig_supervisor": "王五"}, DemoCA(Path(env["CA"])))
        wait_for(lambda: registry.count(svc.engine, viewer=SYSTEM) == 1, "archival by polling")
        archived = wait_for(lambda: [json.loads(n["body"])["params"]["subject_params"]["rich_subject"]
                                     for n in nextcloud.sent("/api/v1/notification", "POST")
                                     if "已归档" in n["body"]], "archived notification")
        assert archived == ["交接档案包已归档：张三"]
        assert not nextcloud.sent("/webhook_listeners/", "POST")  # the DELETE was refused with 404
        # the status page embedded in Nextcloud (redirect_handler -> ?fileIds=326) shows the job
        page = requests.get(srv.url + "status?fileIds=326", headers=auth_headers("archivist")).text
        assert f'data-id="{job_id}"' in page and "已完成" in page


def test_webhook_is_acknowledged_at_once_and_deduplicated(exapp) -> None:
    svc, srv, _env = exapp
    envelope = {"event": {"class": "OCP\\Files\\Events\\Node\\NodeCreatedEvent",
                          "node": {"id": 437, "path": "/archivist/files/交接材料/张三-2019-2024-交接/交接书.signed_42.pdf"}},
                "user": {"uid": "archivist", "displayName": "档案管理员 Archivist"}, "time": 1795628300}
    r = requests.post(srv.url + "api/v1/webhook", json=envelope, headers=auth_headers(""), timeout=3)
    assert r.status_code == 200 and r.json()["status"] == "accepted" and r.json()["duplicate"] is False
    job = svc.queue.get(r.json()["job"])
    assert job.kind == "scan" and job.payload["paths"] == ["/交接材料/张三-2019-2024-交接/交接书.signed_42.pdf"]
    again = requests.post(srv.url + "api/v1/webhook", json=envelope, headers=auth_headers(""), timeout=3)
    assert again.json() == {**r.json(), "duplicate": True}
    tag = {"event": {"class": "OCP\\SystemTag\\TagAssignedEvent", "objectType": "files", "objectIds": ["437"],
                     "tagIds": [3]}, "user": None, "time": 1795628301}
    t = requests.post(srv.url + "api/v1/webhook", json=tag, headers=auth_headers(""), timeout=3)
    assert t.status_code == 200 and svc.queue.get(t.json()["job"]).payload["paths"] == []  # scans every awaiting draft
    assert requests.post(srv.url + "api/v1/webhook", data=b"{", headers=auth_headers("")).status_code == 400


def test_webhook_registration_where_webhook_listeners_exists(tmp_path: Path, shared_dir: Path, monkeypatch) -> None:
    nc = NextcloudReplay(shared_dir, webhooks=True)
    try:
        svc = Service(load_settings(exapp_env(tmp_path, nc)))
        assert svc.enable("") == ""
        calls = nc.sent("/webhook_listeners/")
        assert (calls[0]["method"], calls[0]["path"]) == (
            "DELETE", f"/ocs/v1.php/apps/webhook_listeners/api/v1/webhooks/byappid/{APP_ID}")
        posts = [json.loads(c["body"]) for c in calls if c["method"] == "POST"]
        assert [p["event"] for p in posts] == ["OCP\\Files\\Events\\Node\\NodeCreatedEvent",
                                               "OCP\\Files\\Events\\Node\\NodeWrittenEvent",
                                               "OCP\\SystemTag\\TagAssignedEvent"]
        for p in posts:
            assert p["httpMethod"] == "POST" and p["uri"] == "/api/v1/webhook"
            assert set(p) == {"httpMethod", "uri", "event", "eventFilter"}
        regex = posts[0]["eventFilter"]["event.node.path"]
        assert regex.startswith("/^") and regex.endswith("$/i")
        py = re.compile(regex[1:-2], re.I)
        assert py.match("/archivist/files/交接材料/张三-2019-2024-交接/张三-2019-2024-交接书.signed_42.pdf")
        assert not py.match("/archivist/files/交接材料/张三-2019-2024/2023年度工作总结.pdf")
        assert posts[2]["eventFilter"] == {"event.objectType": "files"}
        assert svc.webhooks == [p["event"] for p in posts]
    finally:
        nc.close()


def test_nextcloud_refusing_our_secret_refuses_enable_without_leaking_it(tmp_path: Path, shared_dir: Path) -> None:
    nc = NextcloudReplay(shared_dir)
    nc.reject_all = True  # answers like appapi-wrong-secret-401.json
    try:
        svc = Service(load_settings(exapp_env(tmp_path, nc)))
        error = svc.enable("")
        assert error.startswith("注册文件菜单动作失败：Nextcloud 拒绝了应用认证") and SECRET not in error
        svc.notifier.notify("archivist", "done", "测试通知")
        assert svc.notifier.deliver_pending() == 0
        n = svc.notifier.recent(viewer=SYSTEM)[0]
        assert not n["sent"] and "拒绝了应用认证" in n["error"] and SECRET not in n["error"]
        nc.reject_all = False
        assert svc.notifier.deliver_pending() == 1 and svc.notifier.recent(viewer=SYSTEM)[0]["sent"]
    finally:
        nc.close()


def test_info_xml_declares_every_route_the_browser_uses() -> None:
    import handover_dossier.app as app_pkg

    info = ET.parse(Path(app_pkg.__file__).with_name("appinfo") / "info.xml").getroot()
    assert info.findtext("id") == "handover_dossier"
    routes = [(r.findtext("url"), r.findtext("verb").split(","), int(r.findtext("access_level")))
              for r in info.iter("route")]
    used = [("GET", "search"), ("GET", ""), ("GET", "status"), ("GET", "cases"), ("GET", "bundle"), ("GET", "download"),
            ("POST", "verify"), ("POST", "assemble"), ("POST", "cases"), ("POST", "api/v1/files-action"),
            ("GET", "api/v1/jobs"), ("GET", "api/v1/jobs/12"), ("POST", "api/v1/jobs/12/retry"),
            ("GET", "api/v1/bundles"), ("GET", "api/v1/bundles/0000-LRJJ·2024-ABC/download"), ("GET", "api/v1/cases"),
            ("POST", "api/v1/cases"), ("GET", "api/v1/access-log"), ("GET", "js/dossier-embed.js"), ("GET", "img/icon.svg"),
            ("GET", "api/v1/drafts"), ("POST", "api/v1/drafts/7/confirm"), ("POST", "confirm")]
    for verb, path in used:
        assert any(re.search(url, path) and verb in verbs for url, verbs, _lvl in routes), (verb, path)
    assert not any(re.search(url, "../etc/passwd") for url, _v, _l in routes)
    assert [lvl for url, _v, lvl in routes if "access-log" in url] == [2]  # the access log is for admins


def test_embed_script_frames_the_status_page_through_the_proxy(exapp) -> None:
    _svc, srv, _env = exapp
    js = requests.get(srv.url + "js/dossier-embed.js", headers=auth_headers("archivist")).text
    assert f"/index.php/apps/app_api/proxy/{APP_ID}/" in js and "status?fileIds=" in js
    svg = requests.get(srv.url + "img/icon.svg", headers=auth_headers("archivist"))
    assert svg.headers["content-type"].startswith("image/svg+xml")


def test_pages_and_api_speak_traditional_on_request(exapp) -> None:
    _svc, srv, _env = exapp
    page = requests.get(srv.url + "search?lang=zh-Hant", headers=auth_headers("archivist")).text
    assert "檢索" in page and "档案检索" not in page
    err = requests.get(srv.url + "api/v1/jobs/999?lang=zh-Hant", headers=auth_headers("archivist"))
    assert err.status_code == 404 and err.json()["error"] == "沒有這個任務"


def test_nextcloud_files_are_read_as_the_user_with_appapi_headers(tmp_path: Path, nextcloud: NextcloudReplay,
                                                                  shared_dir: Path) -> None:
    """Without DOSSIER_DMS_ROOT the ExApp reads the user's files over WebDAV with the AppAPI
    headers only (appapi-webdav-propfind.json: AppAPI's DAV plugin authenticates them)."""
    env = {k: v for k, v in exapp_env(tmp_path, nextcloud).items() if k != "DOSSIER_DMS_ROOT"}
    svc = Service(load_settings(env))
    assert svc.dms.kind == "nextcloud"
    conn = svc.dms.connector("/交接材料/张三-2019-2024", "archivist")
    try:
        entries = list(conn.walk())
    finally:
        conn.close()
    files = [e for e in entries if not e.problem]
    assert [(e.path, e.size, e.etag) for e in files] == [("移交说明.txt", 103, "fdc6d8f7724f7afa79385579ea0a2144")]
    # The subfolders' listings are not among the recordings (404 here): reported, not dropped.
    assert sorted(e.path for e in entries if e.problem) == ["归档包", "总结", "计划", "财务"]
    first = nextcloud.sent("/remote.php/dav/files/archivist/", "PROPFIND")[0]
    assert first["path"] == "/remote.php/dav/files/archivist/交接材料/张三-2019-2024/"
    assert first["headers"]["Depth"] == "1" and "Authorization" not in first["headers"]
    assert base64.b64decode(first["headers"]["AUTHORIZATION-APP-API"]).decode() == f"archivist:{SECRET}"
    assert first["headers"]["EX-APP-ID"] == APP_ID and first["headers"]["OCS-APIRequest"] == "true"
    assert svc.dms.link("/交接材料/张三-2019-2024-交接") == (
        nextcloud.url + "/index.php/apps/files/?dir=%2F%E4%BA%A4%E6%8E%A5%E6%9D%90%E6%96%99%2F"
        "%E5%BC%A0%E4%B8%89-2019-2024-%E4%BA%A4%E6%8E%A5")
