"""What every HTTP answer carries, and what a standalone server checks before a handler runs.

Security headers go on every response -- pages, JSON, files, and the 401/403 answers the
guards themselves give: no MIME sniffing, no referrer to other sites, framing only by the same origin (the
AppAPI proxy serves our pages from Nextcloud's origin into Nextcloud's top-menu page), no
caching of private data.

Standalone mode (one operator, local folders, no Nextcloud accounts) is where a browser can
be turned against the server, so there:

- **Host allow-list** -- the Host header must name loopback, the address the server was
  asked to listen on, or a name in ``DOSSIER_ALLOWED_HOSTS``: a DNS-rebinding page (a
  hostile name that resolves to 127.0.0.1) gets 421 and reads nothing;
- **login** -- with ``DOSSIER_LOGIN_USER`` / ``DOSSIER_LOGIN_PASSWORD`` every request but the
  heartbeat needs them (HTTP Basic; compared in constant time); without a login the server
  only ever listens on loopback (:func:`.config.check_bind`);
- **same origin** -- a state-changing request that a browser marks cross-site
  (``Sec-Fetch-Site``) or from another origin (``Origin``) is refused; JSON routes accept
  only ``Content-Type: application/json`` (which no cross-site form can send without a CORS
  preflight we never grant), and forms must carry the page's CSRF token
  (:meth:`Guard.check_form`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import Settings, is_loopback

#: Added to every response (nc13's pages may tighten the Content-Security-Policy further).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make browsers send "Origin: null"
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: Largest request body accepted (a Files-menu click on many folders is a few kilobytes).
MAX_REQUEST_BODY = 4 << 20
#: What AppAPI calls without its headers, and a standalone login does not cover either.
OPEN_PATHS = {("GET", "/heartbeat")}


def server_key(data_dir: Path) -> bytes:
    """A random key kept in the data folder (0600), created on first use: CSRF tokens are
    derived from it, so they survive restarts and differ between installations."""
    path = Path(data_dir) / ".server-key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


class Guard:
    """ASGI middleware (outermost): security headers always; in standalone mode the Host
    allow-list, the login and the same-origin rules of the module docstring."""

    def __init__(self, app: Any, settings: Settings, bind_host: str = "") -> None:
        self.app = app
        self.settings = settings
        self.csrf_token = hmac.new(server_key(settings.data_dir), b"csrf-v1", hashlib.sha256).hexdigest()
        hosts = {"localhost", "127.0.0.1", "::1", *settings.allowed_hosts}
        if bind_host and bind_host not in ("0.0.0.0", "::"):
            hosts.add(bind_host.lower())
        self.allowed_hosts = hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in have]
            await send(message)

        scope.setdefault("state", {})["csrf"] = self.csrf_token
        declared = next((v for k, v in scope["headers"] if k.lower() == b"content-length"), b"")
        if declared.isdigit() and int(declared) > MAX_REQUEST_BODY:
            await _answer(send_with_headers, 413, f"请求内容过大（超过 {MAX_REQUEST_BODY >> 20} MB）", [])
            return
        receive = _bounded(receive, MAX_REQUEST_BODY)
        if not self.settings.exapp:
            refusal = self.standalone_refusal(scope)
            if refusal is not None:
                status, text, extra = refusal
                await _answer(send_with_headers, status, text, extra)
                return
        await self.app(scope, receive, send_with_headers)

    # -- standalone --------------------------------------------------------------------------
    def standalone_refusal(self, scope: dict) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        host = _hostname(headers.get("host", ""))
        if host not in self.allowed_hosts and not is_loopback(host):
            return 421, f"不接受的主机名：{host or '（空）'}（可在 DOSSIER_ALLOWED_HOSTS 中添加）", []
        if (method, path) in OPEN_PATHS:
            return None
        if self.settings.login_user:
            user = self.login(headers.get("authorization", ""))
            if user is None:
                return 401, "请登录（用户名和密码由管理员在 DOSSIER_LOGIN_USER / DOSSIER_LOGIN_PASSWORD 中设置）", [
                    (b"www-authenticate", b'Basic realm="handover-dossier", charset="UTF-8"')]
            scope["state"]["user"] = user
        if method in SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site", "")
        if site and site not in ("same-origin", "none"):
            return 403, "拒绝跨站请求（Sec-Fetch-Site: " + site + "）", []
        origin = headers.get("origin")
        if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()):
            return 403, "拒绝来自其他来源的请求（Origin 与本站不符）", []
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if path.startswith("/api/") and ctype != "application/json":
            return 415, "接口只接受 Content-Type: application/json", []
        return None

    def login(self, authorization: str) -> str | None:
        """The user of a valid Basic login, else None (constant-time comparisons)."""
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        ok_user = hmac.compare_digest(user.encode(), self.settings.login_user.encode())
        ok_password = hmac.compare_digest(password.encode(), self.settings.login_password.encode())
        return user if sep and ok_user and ok_password else None

    def check_form(self, form: dict[str, str]) -> bool:
        """A form post carries this server's CSRF token (standalone; ExApp forms go through
        Nextcloud's session, whose cookies are SameSite)."""
        return self.settings.exapp or hmac.compare_digest(form.get("csrf", "").encode(), self.csrf_token.encode())


def _bounded(receive: Any, limit: int) -> Any:
    """``receive`` that ends the request (as a disconnect) once a body without a declared
    length goes past ``limit`` bytes."""
    seen = 0

    async def wrapped() -> dict:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return wrapped


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _answer(send: Any, status: int, text: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": text}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})
