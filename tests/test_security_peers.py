"""A hostile DMS server (docs/SECURITY.md): a real WsgiDAV server on loopback, with the
fault-injection proxy in front of it playing the hostile part."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from handover_dossier.pipeline import assemble
from handover_dossier.samplecorpus.docgen import write_txt
from support.faultproxy import Fault, Rule
from support.webdav_server import fresh_loopback_host


def test_download_stops_at_the_listed_size_plus_a_margin(dav_server, dav_credentials, fault_proxy_factory,
                                                         tmp_path: Path, monkeypatch) -> None:
    """Before: a document listed at 10 B streamed 300 MB into the cache."""
    folder = dav_server.root / "src"
    folder.mkdir()
    write_txt(folder / "2023年度工作总结.txt", "2023年度工作总结", ["一年来，圆满完成了各项目标任务。"])
    (folder / "说明.txt").write_bytes(b"0123456789")  # listed as 10 bytes
    proxy = fault_proxy_factory(dav_server.base, [Rule(Fault("flood", after_bytes=300 << 20), path=r"说明\.txt$")])
    result = assemble(proxy.url("src"), tmp_path / "out.zip")
    (exc,) = result.index["exceptions"]
    assert exc["source"] == "说明.txt" and "远超文件大小" in exc["reason"] and "10 字节" in exc["reason"]
    flood = proxy.injected("flood")
    assert flood and all(r.sent < 64 << 20 for r in flood)  # cut off long before 300 MB
    assert [it["source"] for it in result.index["items"]] == ["2023年度工作总结.txt"]


def test_the_password_goes_only_to_its_own_server(dav_server_factory, dav_credentials, tmp_path: Path,
                                                  monkeypatch) -> None:
    """Before: DOSSIER_PASSWORD went to whichever host a URL named (a batch job or a typo
    could send it anywhere)."""
    from handover_dossier.connectors import ConnectorError, open_connector
    from handover_dossier.pipeline import AssembleError

    own = dav_server_factory(tmp_path / "own")
    (own.root / "src").mkdir()
    write_txt(own.root / "src" / "说明.txt", "说明", ["交接说明。"])
    hostile = dav_server_factory(tmp_path / "hostile")  # a server the password is not for
    (hostile.root / "src").mkdir()
    monkeypatch.setenv("DOSSIER_HOST", own.host)  # what the operator configured
    assert [it["source"] for it in assemble(own.url("src"), tmp_path / "a.zip").index["items"]] == ["说明.txt"]
    assert any("Authorization" in r.headers for r in own.log())
    with pytest.raises((AssembleError, ConnectorError), match="只发送给 DOSSIER_HOST"):
        assemble(hostile.url("src"), tmp_path / "b.zip")
    with pytest.raises(ConnectorError):
        open_connector(hostile.url("src"))
    assert not any("Authorization" in r.headers for r in hostile.log(settle=1.0))


def test_no_password_over_plain_http_to_another_machine(monkeypatch) -> None:
    from handover_dossier.connectors import ConnectorError
    from handover_dossier.connectors.credentials import Credentials, resolve
    from handover_dossier.connectors.http import HttpSession

    monkeypatch.setenv("DOSSIER_PASSWORD", "app-password-123")
    monkeypatch.setenv("DOSSIER_HOST", "dav.example.gov.cn")
    with pytest.raises(ConnectorError, match="未加密的 http"):
        resolve("http://dav.example.gov.cn/dav/")  # refused before anything is sent
    assert resolve("https://dav.example.gov.cn/dav/")[1].password == "app-password-123"
    with pytest.raises(ConnectorError, match="未加密的 http"):  # whatever built the session
        HttpSession(Credentials("u", "pw-xyz")).request("GET", "http://192.0.2.1/x")
    monkeypatch.setenv("DOSSIER_ALLOW_INSECURE_HTTP", "1")  # explicitly allowed
    assert resolve("http://dav.example.gov.cn/dav/")[1].password == "app-password-123"


class _Recording(ThreadingHTTPServer):
    """A loopback HTTP server that answers every request with ``answer`` and keeps them."""

    def __init__(self, answer: tuple[int, dict[str, str], bytes]) -> None:
        self.seen: list[dict[str, str]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def _any(self) -> None:
                outer.seen.append({"path": self.path, **{k.upper(): v for k, v in self.headers.items()}})
                status, headers, body = answer
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        super().__init__((fresh_loopback_host(), 0), H)
        self.url = f"http://{self.server_address[0]}:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_ocs_client_never_follows_a_redirect_with_the_app_secret(tmp_path: Path) -> None:
    """Before: the OCS client followed redirects, sending AUTHORIZATION-APP-API (which
    carries the app secret) to wherever Location pointed."""
    from handover_dossier.app.appapi import NextcloudClient, NextcloudError
    from handover_dossier.app.config import load_settings

    thief = _Recording((200, {"Content-Type": "application/json"}, b'{"ocs":{"meta":{"statuscode":200},"data":{}}}'))
    hostile = _Recording((307, {"Location": thief.url + "/ocs/v2.php/cloud/user"}, b""))
    try:
        secret = "s" * 64
        client = NextcloudClient(load_settings({"APP_ID": "handover_dossier", "APP_SECRET": secret, "APP_VERSION": "1",
                                                "APP_PORT": "9", "NEXTCLOUD_URL": hostile.url,
                                                "DOSSIER_DATA_DIR": str(tmp_path)}))
        for call in (lambda: client.user_groups("archivist"), lambda: client.notify("archivist", "主题"),
                     lambda: client.set_init_status(100)):
            with pytest.raises(NextcloudError, match="重定向") as exc:
                call()
            assert secret not in str(exc.value)
        assert len(hostile.seen) == 3 and thief.seen == []
    finally:
        for s in (thief, hostile):
            s.shutdown()
            s.server_close()


def test_the_batch_queue_runs_only_signed_assemble_jobs(redis_url, tmp_path: Path, monkeypatch) -> None:
    """Before: whoever could write to Redis chose source, output and filing target of a
    worker's run (with the worker's credentials) -- or any function for RQ to call."""
    import json
    import os
    import subprocess
    import sys

    from handover_dossier.scale.jobs import JOB_FUNCTION, BundleJob, JobSpecError, job_signature
    from handover_dossier.scale.queue import enqueue
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry
    from rq.serializers import JSONSerializer

    secret = "the-operators-shared-secret-" + "k" * 12
    src = tmp_path / "src"
    src.mkdir()
    write_txt(src / "说明.txt", "说明", ["交接说明。"])
    canary = tmp_path / "canary.txt"
    canary.write_text("must survive", encoding="utf-8")
    q = Queue("dossier", connection=Redis.from_url(redis_url), serializer=JSONSerializer)
    stolen = {"source": str(src), "output": str(tmp_path / "attacker" / "stolen.zip")}
    # 1. another function altogether; 2. our function with no HMAC; 3. a signed job changed after signing
    q.enqueue_call("os.remove", args=(str(canary),), job_id="evil-1")
    q.enqueue_call(JOB_FUNCTION, args=(BundleJob(**stolen).as_dict(),), job_id="evil-2")
    legit = BundleJob(source=str(src), output=str(tmp_path / "out" / "ok.zip"))
    forged = dict(legit.as_dict(), output=stolen["output"])
    q.enqueue_call(JOB_FUNCTION, args=(forged,), job_id="evil-3",
                   meta={"hmac": job_signature(secret.encode(), JOB_FUNCTION, [legit.as_dict()], {}, "evil-3")})
    # Without the secret nobody can queue (batch refuses) and no worker starts.
    monkeypatch.delenv("DOSSIER_QUEUE_SECRET", raising=False)
    with pytest.raises(JobSpecError, match="DOSSIER_QUEUE_SECRET"):
        enqueue([legit], redis_url)
    cli = [sys.executable, "-m", "handover_dossier.cli"]
    env = {k: v for k, v in os.environ.items() if k != "DOSSIER_QUEUE_SECRET"}
    r = subprocess.run([*cli, "worker", "--redis", redis_url, "--burst"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "DOSSIER_QUEUE_SECRET" in r.stderr
    # With it: the operator's own job runs; the three hostile ones are refused.
    monkeypatch.setenv("DOSSIER_QUEUE_SECRET", secret)
    (good,) = enqueue([legit], redis_url)
    env["DOSSIER_QUEUE_SECRET"] = secret
    r = subprocess.run([*cli, "worker", "--redis", redis_url, "--burst"], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert canary.read_text(encoding="utf-8") == "must survive"
    assert not (tmp_path / "attacker").exists() and (tmp_path / "out" / "ok.zip").is_file()
    failed = set(FailedJobRegistry(queue=q).get_job_ids())
    assert failed == {"evil-1", "evil-2", "evil-3"} and good.id not in failed
    reasons = {j: Job.fetch(j, connection=q.connection, serializer=JSONSerializer).exc_info or "" for j in failed}
    assert "函数不是档案包任务" in reasons["evil-1"]
    assert "签名无效" in reasons["evil-2"] and "签名无效" in reasons["evil-3"]
    assert json.loads(json.dumps(reasons))  # plain text, nothing unpickled


def test_an_endless_listing_is_cut_off(dav_server, dav_credentials, fault_proxy_factory, tmp_path: Path,
                                       monkeypatch) -> None:
    """A hostile server answering a PROPFIND with an endless body: requests would have read
    all of it into memory; now no answer is read beyond MAX_BODY (64 MB; 1 MB here)."""
    import handover_dossier.connectors.http as http
    from handover_dossier.connectors import ConnectorError
    from handover_dossier.pipeline import AssembleError

    monkeypatch.setattr(http, "MAX_BODY", 1 << 20)
    (dav_server.root / "src").mkdir()
    write_txt(dav_server.root / "src" / "说明.txt", "说明", ["交接说明。"])
    proxy = fault_proxy_factory(dav_server.base, [Rule(Fault("flood", after_bytes=100 << 20), method="PROPFIND")])
    with pytest.raises((AssembleError, ConnectorError), match="回复过大"):
        assemble(proxy.url("src"), tmp_path / "out.zip")
    assert proxy.injected("flood") and all(r.sent < 32 << 20 for r in proxy.injected("flood"))
    assert not (tmp_path / "out.zip").exists()
