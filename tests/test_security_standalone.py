"""Fail closed (docs/SECURITY.md): the mode is never guessed from half a configuration, a
standalone server stays on loopback unless it has a login, checks Host and origin, and every
answer carries the security headers. Real servers on loopback, real HTTP."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from handover_dossier.app.config import ConfigError, check_bind, load_settings
from handover_dossier.app.records.owner import SYSTEM
from handover_dossier.app.service import Service
from handover_dossier.app.web import create_app
from test_app_flows import LoopbackServer, csrf_token

APPAPI = {"APP_ID": "handover_dossier", "APP_SECRET": "x" * 64, "APP_VERSION": "0.1.0", "APP_PORT": "9031",
          "NEXTCLOUD_URL": "http://127.0.0.1:9/"}
CLI = [sys.executable, "-m", "handover_dossier.cli"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DOSSIER_", "NEXTCLOUD_"))}
    env.update({"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_CACHE": str(tmp_path / "cache")}, **extra)
    return env


@pytest.mark.parametrize("missing", ["APP_SECRET", "NEXTCLOUD_URL", "APP_ID"])
def test_half_an_appapi_configuration_stops_the_app(tmp_path: Path, missing: str) -> None:
    """Before: with one AppAPI variable missing the app started standalone, unauthenticated,
    on APP_HOST=0.0.0.0 (the Dockerfile's): GET /api/v1/bundles with no headers -> 200."""
    env = clean_env(tmp_path, **{k: v for k, v in APPAPI.items() if k != missing}, APP_HOST="0.0.0.0")
    r = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and f"缺少 AppAPI 配置：{missing}" in r.stderr and "应用不启动" in r.stderr
    assert "服务地址" not in r.stdout  # it never listened


def test_standalone_refuses_a_non_loopback_address_without_a_login(tmp_path: Path) -> None:
    r = subprocess.run([*CLI, "serve", "--host", "0.0.0.0", "--port", "9"], env=clean_env(tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "只能监听本机地址" in r.stderr and "DOSSIER_LOGIN_USER" in r.stderr
    standalone = load_settings(clean_env(tmp_path))
    for host in ("0.0.0.0", "::", "192.0.2.10", "dossier.example.gov.cn"):
        with pytest.raises(ConfigError):
            check_bind(standalone, host)
    for host in ("127.0.0.1", "127.3.4.5", "::1", "localhost"):
        check_bind(standalone, host)
    check_bind(load_settings(clean_env(tmp_path, DOSSIER_LOGIN_USER="档案员", DOSSIER_LOGIN_PASSWORD="pw-" + "y" * 20)),
               "0.0.0.0")


@pytest.fixture()
def standalone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for var in ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL", "DOSSIER_MODE"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "dms" / "交接材料" / "张三-2019-2024").mkdir(parents=True)
    svc = Service(load_settings({"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_DMS_ROOT": str(tmp_path / "dms"),
                                 "DOSSIER_POLL_SECONDS": "3600"}))
    with LoopbackServer(create_app(svc, manage_lifecycle=False)) as srv:
        yield svc, srv


def cases(svc: Service) -> list:
    from handover_dossier.app.records.cases import list_cases

    return list_cases(svc.engine, viewer=SYSTEM)


def test_cross_site_posts_and_dns_rebinding_are_refused(standalone) -> None:
    """Before: a cross-origin form POST and a text/plain JSON POST created jobs and cases; any
    Host header was answered (DNS rebinding)."""
    svc, srv = standalone
    origin = srv.url.rstrip("/")
    case = {"leader": "冒名者", "announced": "2024-07-10"}
    # a form on another site, posted by the victim's browser
    r = requests.post(srv.url + "cases", data=case, headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = requests.post(srv.url + "cases", data=case, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "其他来源" in r.json()["error"]
    r = requests.post(srv.url + "cases", data=case, headers={"Origin": "null"})  # sandboxed frame
    assert r.status_code == 403
    # JSON sent as text/plain (what a cross-site form or no-cors fetch can send)
    r = requests.post(srv.url + "api/v1/cases", data='{"leader": "冒名者", "announced": "2024-07-10"}',
                      headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = requests.post(srv.url + "api/v1/files-action", data='{"fileId": 1, "name": "张三-2019-2024", "directory": '
                      '"/交接材料", "mime": "httpd/unix-directory"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    # a same-origin form without the page's token (e.g. replayed from elsewhere)
    r = requests.post(srv.url + "cases", data=case, headers={"Origin": origin}, allow_redirects=False)
    assert r.status_code == 403 and "校验码" in r.text
    assert cases(svc) == [] and svc.queue.list(viewer=SYSTEM) == []
    # DNS rebinding: a hostile name resolving to 127.0.0.1 -- nothing is read, nothing is done
    for path in ("search", "api/v1/bundles", "api/v1/jobs", "status"):
        r = requests.get(srv.url + path, headers={"Host": f"rebind.evil.example:{srv.port}"})
        assert r.status_code == 421, path
    r = requests.post(srv.url + "api/v1/cases", json=case, headers={"Host": "rebind.evil.example"})
    assert r.status_code == 421 and cases(svc) == []
    # the real pages still work: same origin, with the token
    token = csrf_token(requests.get(srv.url + "cases").text)
    r = requests.post(srv.url + "cases", data={**case, "leader": "张三", "csrf": token},
                      headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"}, allow_redirects=False)
    assert r.status_code == 303 and [c.leader for c in cases(svc)] == ["张三"]
    assert requests.post(srv.url + "api/v1/cases", json={**case, "leader": "李四"}).status_code == 201


def test_standalone_login_when_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL", "DOSSIER_MODE"):
        monkeypatch.delenv(var, raising=False)
    password = "正确的密码-" + "z" * 16
    svc = Service(load_settings({"DOSSIER_DATA_DIR": str(tmp_path / "data"), "DOSSIER_DMS_ROOT": str(tmp_path / "dms"),
                                 "DOSSIER_LOGIN_USER": "档案员", "DOSSIER_LOGIN_PASSWORD": password}))
    with LoopbackServer(create_app(svc, manage_lifecycle=False)) as srv:
        assert requests.get(srv.url + "heartbeat").status_code == 200
        for path in ("search", "api/v1/bundles", "status", "js/dossier-embed.js"):
            r = requests.get(srv.url + path)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic"), path
        bad = base64.b64encode("档案员:猜的".encode()).decode()
        assert requests.get(srv.url + "search", headers={"Authorization": f"Basic {bad}"}).status_code == 401
        ok = requests.get(srv.url + "status", auth=("档案员".encode(), password.encode()))
        assert ok.status_code == 200 and "档案员" in ok.text
        assert password not in ok.text


EXPECTED = {"x-content-type-options": "nosniff", "x-frame-options": "SAMEORIGIN", "cache-control": "no-store"}


def test_every_answer_carries_the_security_headers(standalone) -> None:
    _svc, srv = standalone
    answers = [requests.get(srv.url + p, allow_redirects=False) for p in
               ("search", "status", "cases", "bundle?code=x", "api/v1/bundles", "api/v1/jobs/99", "no-such-page", "",
                "heartbeat", "js/dossier-embed.js", "img/icon.svg")]
    answers.append(requests.get(srv.url + "search", headers={"Host": "evil.example"}))  # the guard's own 421
    answers.append(requests.post(srv.url + "cases", data={}, headers={"Origin": "http://evil.example"}))  # its 403
    for r in answers:
        for k, v in EXPECTED.items():
            assert r.headers.get(k) == v, (r.url, r.status_code, k)
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
        assert r.headers["referrer-policy"] == "same-origin"


def test_exapp_answers_carry_them_too_including_refusals(tmp_path: Path, shared_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from test_app_nextcloud import NextcloudReplay, auth_headers, exapp_env

    nc = NextcloudReplay(shared_dir)
    try:
        svc = Service(load_settings(exapp_env(tmp_path, nc)))
        with LoopbackServer(create_app(svc, manage_lifecycle=False)) as srv:
            for r in (requests.get(srv.url + "api/v1/bundles"),  # 401 from the AppAPI check
                      requests.get(srv.url + "search", headers=auth_headers("archivist")),
                      requests.get(srv.url + "heartbeat")):
                for k, v in EXPECTED.items():
                    assert r.headers.get(k) == v, (r.url, r.status_code, k)
    finally:
        nc.close()


def test_request_bodies_are_bounded(standalone) -> None:
    svc, srv = standalone
    big = b'{"leader": "' + b"x" * (5 << 20) + b'", "announced": "2024-07-10"}'
    r = requests.post(srv.url + "api/v1/cases", data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and cases(svc) == []

    def chunks():  # no Content-Length: the body is cut off as it arrives
        yield b'{"leader": "'
        for _ in range(6):
            yield b"y" * (1 << 20)
        yield b'", "announced": "2024-07-10"}'

    try:
        r = requests.post(srv.url + "api/v1/cases", data=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code >= 400
    except requests.ConnectionError:
        pass  # the server hung up on it: also fine
    assert cases(svc) == []
