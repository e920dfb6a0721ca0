"""pytest plugin: a real WebDAV server (WsgiDAV from PyPI on cheroot) on loopback.

Each server runs in a background thread on 127.0.0.1 on a free port, serves a folder of
the test's choosing, asks for HTTP Basic authentication, and records every request it
answers (method, decoded path, status, Range header, body bytes sent) so tests can count
what was really transferred -- e.g. that a re-run GETs no document bodies.

Fixtures:
- ``dav_server_factory(root, users=None)`` -> :class:`DavServer` (stopped at teardown);
- ``dav_server`` -> a server over a fresh ``tmp_path / "dav"`` with the user
  ``archivist`` / :data:`DAV_PASSWORD`;
- ``dav_credentials`` -> sets ``DOSSIER_USER`` / ``DOSSIER_PASSWORD`` for that user;
- ``dossier_model_cache`` -> a session-wide folder for ``DOSSIER_MODEL_CACHE``;
- ``dav_corpus`` -> a small corpus of real documents (handover_dossier.samplecorpus.docgen) whose
  names carry Chinese, spaces, '#', '%', '?', a very long name and an NFD name.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

DAV_USER = "archivist"
#: A throwaway password for the loopback test server (it must never appear in any output).
DAV_PASSWORD = "Zz9-test-app-password-7Qx"


@dataclass
class Request:
    method: str
    path: str
    status: int
    range: str
    bytes_out: int
    headers: dict[str, str]


_hosts = itertools.count(1)


def folder_url(base: str, rel: str = "") -> str:
    """``base`` + the percent-encoded folder path ``rel``, '/'-terminated."""
    rel = rel.strip("/")
    return f"{base}/{quote(rel, safe='/')}/" if rel else f"{base}/"


def fresh_loopback_host() -> str:
    """A loopback address (127.0.0.0/8) no earlier server of this process used.

    Servers are started and stopped per test on ephemeral ports; a client thread left over
    from an earlier test (a retry after back-off) must never reach a later test's server
    that happens to get the same port number, or it pollutes that test's request log.
    """
    n = next(_hosts)
    return f"127.{os.getpid() % 250 + 1}.{n // 250 % 250}.{n % 250 + 1}"


class _Recorder:
    """WSGI middleware recording each request and the body bytes sent back."""

    def __init__(self, app: Callable, server: DavServer) -> None:
        self.app = app
        self.server = server

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        raw = environ.get("PATH_INFO", "")
        try:  # PEP 3333: PATH_INFO is latin-1 decoded bytes
            path = raw.encode("latin-1").decode("utf-8")
        except UnicodeError:
            path = raw
        rec = Request(
            method=environ.get("REQUEST_METHOD", ""),
            path=path,
            status=0,
            range=environ.get("HTTP_RANGE", ""),
            bytes_out=0,
            headers={k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")},
        )

        def _start(status: str, headers: list, exc_info: Any = None) -> Any:
            rec.status = int(status.split()[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        self.server._begin()
        try:
            body = self.app(environ, _start)
        except BaseException:
            self.server._record(rec)
            raise
        return self._iterate(body, rec)

    def _iterate(self, body: Any, rec: Request) -> Iterator[bytes]:
        try:
            for chunk in body:
                rec.bytes_out += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
            self.server._record(rec)


class DavServer:
    """A running WsgiDAV server over ``root``."""

    def __init__(self, root: Path, users: dict[str, str] | None = None) -> None:
        from cheroot import wsgi
        from wsgidav.wsgidav_app import WsgiDAVApp

        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        if users is None:
            users = {DAV_USER: DAV_PASSWORD}
        user_mapping: dict[str, Any] = (
            {"*": {u: {"password": p, "roles": []} for u, p in users.items()}} if users else {"*": True}
        )
        self.host = fresh_loopback_host()
        config = {
            "host": self.host,
            "port": 0,
            "provider_mapping": {"/": str(self.root)},
            "simple_dc": {"user_mapping": user_mapping},
            "http_authenticator": {
                "domain_controller": None,
                "accept_basic": True,
                "accept_digest": False,
                "default_to_digest": False,
            },
            "verbose": 0,
            "logging": {"enable": False},
            "dir_browser": {"enable": False},
            "lock_storage": True,
            "property_manager": True,
        }
        self.app = WsgiDAVApp(config)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._server = wsgi.Server((self.host, 0), _Recorder(self.app, self), numthreads=16)
        self._server.prepare()
        self.port = self._server.bind_addr[1]
        self._thread = threading.Thread(target=self._server.serve, name=f"wsgidav-{self.port}", daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, rel: str = "") -> str:
        """URL of ``rel`` (a folder path relative to the served root; '/'-terminated)."""
        return folder_url(self.base, rel)

    def _begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _record(self, rec: Request) -> None:
        with self._lock:
            self.requests.append(rec)
            self._in_flight -= 1
            self._idle.notify_all()

    def reset_log(self, settle: float = 10.0) -> None:
        """Forget the requests seen so far. A request is logged when its response ends, so
        first wait (up to ``settle`` s) for responses still streaming -- e.g. a body the
        client gave up on mid-way -- or they would show up in the next test step's log."""
        with self._idle:
            self._settle(settle)
            self.requests.clear()

    def log(self, method: str | None = None, settle: float = 5.0) -> list[Request]:
        """The requests seen so far. A request is logged only after the server has sent
        the end of its response, which the client may already have read: wait (up to
        ``settle`` s) for responses in flight, so that a request just answered is listed."""
        with self._idle:
            self._settle(settle)
            return [r for r in self.requests if method is None or r.method == method]

    def _settle(self, timeout: float) -> None:
        """With ``self._idle`` held: wait until no response is in flight, or ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            self._idle.wait(0.05)

    def body_gets(self) -> list[Request]:
        """GETs that sent a document body (200/206)."""
        return [r for r in self.log("GET") if r.status in (200, 206)]

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=10)


class DavHosts:
    """The loopback hosts of this test's servers. ``DOSSIER_PASSWORD`` is sent only to the
    hosts in ``DOSSIER_HOST``: once a test asks for credentials, DOSSIER_HOST names exactly
    its own servers (and proxies in front of them), whenever they are started."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hosts: list[str] = []
        self.monkeypatch = monkeypatch
        self.active = False

    def add(self, host: str) -> None:
        self.hosts.append(host)
        self._sync()

    def enable(self) -> None:
        self.active = True
        self._sync()

    def _sync(self) -> None:
        if self.active:
            self.monkeypatch.setenv("DOSSIER_HOST", ",".join(self.hosts))


@pytest.fixture
def dav_hosts(monkeypatch: pytest.MonkeyPatch) -> DavHosts:
    return DavHosts(monkeypatch)


@pytest.fixture
def dav_server_factory(dav_hosts: DavHosts) -> Iterator[Callable[..., DavServer]]:
    servers: list[DavServer] = []

    def make(root: Path, users: dict[str, str] | None = None) -> DavServer:
        s = DavServer(root, users)
        servers.append(s)
        dav_hosts.add(s.host)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def dav_server(dav_server_factory: Callable[..., DavServer], tmp_path: Path) -> DavServer:
    return dav_server_factory(tmp_path / "dav")


@pytest.fixture(scope="session")
def dossier_model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained-model cache for the session (for DOSSIER_MODEL_CACHE): the classifier
    trains once, and subprocesses started by tests load it instead of training again."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def dav_credentials(monkeypatch: pytest.MonkeyPatch, dav_hosts: DavHosts) -> tuple[str, str]:
    """The test servers' user and password in DOSSIER_USER / DOSSIER_PASSWORD, bound (by
    DOSSIER_HOST) to this test's servers only."""
    monkeypatch.setenv("DOSSIER_USER", DAV_USER)
    monkeypatch.setenv("DOSSIER_PASSWORD", DAV_PASSWORD)
    dav_hosts.enable()
    return DAV_USER, DAV_PASSWORD


#: A name near the 255-byte limit of Linux file systems (3 bytes per Chinese character).
LONG_NAME = "关于" + "进一步加强和规范县级交通运输系统财务收支管理工作" * 3 + "的实施方案.txt"
#: An NFD name as macOS writes it (the server keeps it byte for byte).
NFD_NAME = unicodedata.normalize("NFD", "2023年度工作总结（定稿）ガイド.txt")


def make_corpus(root: Path) -> Path:
    """A small corpus of real documents with awkward names, written deterministically."""
    from handover_dossier.samplecorpus import docgen

    root.mkdir(parents=True, exist_ok=True)
    (root / "计划").mkdir(exist_ok=True)
    (root / "总结 与 报告").mkdir(exist_ok=True)
    (root / "财务#100%").mkdir(exist_ok=True)
    docgen.write_docx(
        root / "计划" / "2021年度工作计划.docx",
        "云溪县交通运输局2021年度工作计划",
        ["一、总体要求", "坚持稳中求进工作总基调，全面完成年度目标任务。", "二、重点工作", "加快农村公路建设。"],
        issuer="云溪县交通运输局",
        doc_number="云交发〔2021〕3号",
        date_text="2021年1月15日",
    )
    docgen.write_pdf(
        root / "总结 与 报告" / "2022年工作总结 #终稿 (100%).pdf",
        "云溪县交通运输局2022年工作总结",
        ["2022年，我局认真贯彻落实县委县政府决策部署，各项工作取得新成效。"] * 6,
        issuer="云溪县交通运输局",
        date_text="2022年12月28日",
        pages_min=2,
    )
    docgen.write_xlsx(
        root / "财务#100%" / "2023年度经费收支表?.xlsx",
        {"收支表": [["2023年度经费收支表"], ["项目", "预算数", "决算数"], ["基本支出", 1200000.0, 1180000.5],
                    ["项目支出", 800000.0, 760000.0]]},
        core_title="2023年度经费收支表",
    )
    docgen.write_txt(root / "财务#100%" / "固定资产清单.txt", "固定资产清单", ["办公设备 32 台，车辆 4 辆。"],
                     encoding="gbk")
    docgen.write_txt(root / LONG_NAME, "财务收支管理实施方案", ["加强预算执行管理，规范财务收支。"])
    docgen.write_txt(root / NFD_NAME, "2023年度工作总结", ["本年度圆满完成各项工作任务。"])
    docgen.write_txt(root / "讲话 稿.txt", "在全县交通工作会议上的讲话", ["同志们：今天召开全县交通工作会议。"])
    (root / "空文件.txt").write_bytes(b"")
    # A larger document, so transfers take more than one read and can be cut mid-body.
    docgen.write_pdf(
        root / "总结 与 报告" / "2019-2023年度述职报告.pdf",
        "2019-2023年度述职报告",
        ["任职以来，在县委县政府的坚强领导下，团结带领全局干部职工，较好地完成了各项目标任务。" * 4] * 40,
        issuer="云溪县交通运输局",
        date_text="2024年3月1日",
        pages_min=40,
    )
    return root


@pytest.fixture(scope="session")
def _corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("dav-corpus") / "corpus")


@pytest.fixture
def dav_corpus(dav_server: DavServer, _corpus_template: Path) -> Path:
    """``make_corpus`` (generated once per session) copied into the served folder as ``corpus/``."""
    return Path(shutil.copytree(_corpus_template, dav_server.root / "corpus"))
