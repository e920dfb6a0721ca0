"""pytest plugin: a small HTTP reverse proxy that injects server faults.

It sits between the client under test and a real server (the WsgiDAV fixture) and, by
rules, answers instead of the server or breaks the server's answer:

- ``503`` (with ``Retry-After`` and optionally ``X-Nextcloud-Maintenance-Mode: 1``),
  ``429`` (with or without ``Retry-After``), or any other status;
- ``reset``: forwards, sends the headers and part of the body, then resets the TCP
  connection (RST) -- a connection lost mid-body;
- ``cut``: the same, but closes the connection cleanly (FIN) after exactly that many bytes,
  so the client is sure to have received them (for tests that check resume offsets);
- ``drop``: resets the connection before any answer;
- ``slow``: waits before answering;
- ``norange``: forwards without the ``Range`` header (a server that ignores ranges);
- ``stall``: sends part of the body and then hangs (for kill -9 tests).
- ``flood``: a hostile server: sends the real body and then ``after_bytes`` more, with no
  ``Content-Length`` (the body ends when the connection closes); records how much the
  client took before it hung up (:attr:`ProxyRecord.sent`);
- ``hook``: calls ``before(method, path)`` and then forwards (e.g. another client creates
  the destination of a MOVE in between: a race the client must not lose a file to).

Rules fire deterministically: on the first ``per_path`` matching requests of each path
(independent of thread scheduling), on the first ``times`` matching requests, or at a
``rate`` drawn from a seeded RNG. The Host header is passed through unchanged, so WebDAV
``Destination`` URLs that name the proxy stay valid at the server.

Fixture: ``fault_proxy_factory(upstream_base, rules=[...])`` -> :class:`FaultProxy`.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest

from .webdav_server import DavHosts, folder_url, fresh_loopback_host

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length"}


@dataclass
class Fault:
    """What to do to a request. ``kind``: a status code as text ("503"), "reset", "drop",
    "slow" or "stall"."""

    kind: str
    retry_after: str | None = "1"
    maintenance: bool = False
    #: reset/stall: body bytes passed through before the cut (``after_fraction`` of the
    #: body when set instead).
    after_bytes: int = 0
    after_fraction: float | None = None
    #: slow: seconds to wait before forwarding; stall: seconds to hang.
    delay: float = 0.0
    #: hook: called with (method, decoded path) before the request is forwarded.
    before: Callable[[str, str], None] | None = None


@dataclass
class Rule:
    fault: Fault
    method: str | None = "GET"
    #: Regular expression searched in the decoded request path.
    path: str | None = None
    per_path: int | None = None
    times: int | None = None
    rate: float | None = None
    seed: int = 0
    _seen: dict[str, int] = field(default_factory=lambda: defaultdict(int), repr=False)
    _fired: int = 0
    _rng: random.Random | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and method != self.method:
            return False
        return not (self.path and not re.search(self.path, path))

    def fire(self, path: str) -> bool:
        """Called under the proxy's lock for a matching request."""
        self._seen[path] += 1
        if self.times is not None and self._fired >= self.times:
            return False
        if self.per_path is not None:
            ok = self._seen[path] <= self.per_path
        elif self.rate is not None:
            if self._rng is None:
                self._rng = random.Random(self.seed)
            ok = self._rng.random() < self.rate
        else:
            ok = True
        if ok:
            self._fired += 1
        return ok


@dataclass
class ProxyRecord:
    method: str
    path: str
    status: int
    fault: str
    range: str
    #: flood: body bytes the client accepted before closing the connection.
    sent: int = 0


class FaultProxy:
    def __init__(self, upstream_base: str, rules: list[Rule] | None = None) -> None:
        up = urlsplit(upstream_base)
        self.upstream = (up.hostname or "127.0.0.1", up.port or 80)
        self.rules: list[Rule] = list(rules or [])
        self.records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self.host = fresh_loopback_host()
        self._server = _QuietServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=f"faultproxy-{self.port}",
                                        daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, rel: str = "") -> str:
        return folder_url(self.base, rel)

    def set_rules(self, rules: list[Rule]) -> None:
        with self._lock:
            self.rules = list(rules)

    def decide(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path) and rule.fire(path):
                    return rule.fault
        return None

    def record(self, rec: ProxyRecord) -> None:
        with self._lock:
            self.records.append(rec)

    def injected(self, kind: str | None = None) -> list[ProxyRecord]:
        with self._lock:
            return [r for r in self.records if r.fault and (kind is None or r.fault == kind)]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], OSError):  # clients vanishing is the point here
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultProxy

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        return b""

    def _abort(self) -> None:
        """Reset the connection (RST), as a crashed server or a broken network would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _handle(self) -> None:
        method = self.command
        body = self._read_body()
        path = unquote(urlsplit(self.path).path)
        fault = self.owner.decide(method, path)
        rng = self.headers.get("Range", "")
        if fault is not None and fault.kind.isdigit():
            status = int(fault.kind)
            self.send_response(status)
            if fault.retry_after is not None:
                self.send_header("Retry-After", fault.retry_after)
            if fault.maintenance:
                self.send_header("X-Nextcloud-Maintenance-Mode", "1")
            payload = b"injected fault\n"
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)
            self.owner.record(ProxyRecord(method, path, status, fault.kind, rng))
            return
        if fault is not None and fault.kind == "drop":
            self.owner.record(ProxyRecord(method, path, 0, "drop", rng))
            self._abort()
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "hook" and fault.before is not None:
            fault.before(method, path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if fault is not None and fault.kind == "norange":
            headers = {k: v for k, v in headers.items() if k.lower() not in ("range", "if-range")}
        conn = http.client.HTTPConnection(*self.owner.upstream, timeout=120)
        try:
            conn.request(method, self.path, body=body if body or method in ("PUT", "POST") else None, headers=headers)
            resp = conn.getresponse()
            has_body = method != "HEAD" and resp.status not in (204, 304) and resp.status >= 200
            length = resp.getheader("Content-Length")
            data = b""
            if has_body and length is None:
                data = resp.read()
                length = str(len(data))
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            if has_body and fault is not None and fault.kind == "flood":
                self._flood(resp, fault, method, path, rng)
                return
            if has_body:
                self.send_header("Content-Length", length or "0")
            elif method != "HEAD":
                self.send_header("Content-Length", "0")
            self.end_headers()
            kind = fault.kind if fault is not None else ""
            self.owner.record(ProxyRecord(method, path, resp.status, kind, rng))
            if not has_body:
                return
            total = int(length or 0)
            cut = None
            if fault is not None and fault.kind in ("reset", "stall", "cut"):
                cut = int(total * fault.after_fraction) if fault.after_fraction is not None else fault.after_bytes
                cut = max(0, min(cut, total))
            sent = 0
            if data:
                chunks: Iterator[bytes] = iter([data])
            else:
                chunks = iter(lambda: resp.read(64 << 10), b"")
            for chunk in chunks:
                if cut is not None and sent + len(chunk) >= cut:
                    self.wfile.write(chunk[: cut - sent])
                    self.wfile.flush()
                    if fault is not None and fault.kind == "cut":
                        self.close_connection = True
                        try:
                            self.connection.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        return
                    # Let the client take in the bytes sent so far: a reset discards what
                    # the receiving kernel still holds, and tests count exact offsets.
                    time.sleep(fault.delay if fault is not None and fault.kind == "stall" else 0.2)
                    self._abort()
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
            self.wfile.flush()
        except (ConnectionError, OSError):
            self.close_connection = True
        finally:
            conn.close()

    def _flood(self, resp: http.client.HTTPResponse, fault: Fault, method: str, path: str, rng: str) -> None:
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        rec = ProxyRecord(method, path, resp.status, "flood", rng)
        self.owner.record(rec)
        junk = b"\0" * (1 << 20)
        try:
            data = resp.read()
            self.wfile.write(data)
            rec.sent += len(data)
            while rec.sent < len(data) + fault.after_bytes:
                self.wfile.write(junk)
                rec.sent += len(junk)
        except OSError:
            pass  # the client hung up: what we want

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


@pytest.fixture
def fault_proxy_factory(dav_hosts: DavHosts) -> Iterator[Callable[..., FaultProxy]]:
    proxies: list[FaultProxy] = []

    def make(upstream_base: str, rules: list[Rule] | None = None) -> FaultProxy:
        p = FaultProxy(upstream_base, rules)
        proxies.append(p)
        dav_hosts.add(p.host)  # a relay of the test's own server: its credentials may pass
        return p

    yield make
    for p in proxies:
        p.stop()
