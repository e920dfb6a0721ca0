"""Where the credentials for a DMS URL come from, and how they are kept out of sight.

Order (first hit wins), so that a password never has to be typed into a command line:

1. ``DOSSIER_USER`` / ``DOSSIER_PASSWORD`` from the environment (for Nextcloud: an app
   password; the user defaults to the one in the URL or in the Nextcloud path);
2. ``~/.netrc`` (or the file named by ``NETRC``), matched on the host name;
3. ``user:password@`` inside the URL itself -- accepted as a last resort, because shell
   history and process lists see it.

Whatever the source, :func:`redact` removes credentials (and secret-looking query
parameters) from a URL before it is shown, logged or recorded in a bundle, and
:class:`Credentials` never prints its password.

And a password goes only where it was meant to go:

- ``DOSSIER_PASSWORD`` belongs to the server(s) named in ``DOSSIER_HOST`` (comma-separated
  host names, optionally ``host:port``): it is never sent to a URL on any other host -- a
  mistyped URL, a batch job naming another server, a recorded source that points elsewhere;
  without ``DOSSIER_HOST`` it is not used at all (the message says so);
- ``~/.netrc`` entries are per host by nature, URL credentials belong to that URL;
- no credential of any origin crosses plain ``http://`` to a host other than loopback, unless
  ``DOSSIER_ALLOW_INSECURE_HTTP=1`` says so explicitly (:func:`check_transport`);
- HTTP redirects are never followed with credentials (:mod:`.http` sends every request with
  redirects off).
"""

from __future__ import annotations

import base64
import netrc
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .base import ConnectorError

__all__ = ["Credentials", "check_transport", "redact", "redact_userinfo", "resolve", "scrub"]

#: Query parameters whose values are secrets (signed links, tokens).
_SECRET_PARAMS = re.compile(r"(?i)^(password|passwd|pass|pwd|token|access_token|secret|key|signature|sig|auth)$")


@dataclass(frozen=True)
class Credentials:
    """A user name and a password (or app password). ``repr`` hides the password."""

    user: str
    password: str = field(repr=False)
    #: Where they came from: ``env``, ``netrc`` or ``url`` (for messages; never the secret).
    origin: str = ""

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password='***', origin={self.origin!r})"

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in any message: the password and its encodings."""
        if not self.password:
            return ()
        basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        out = {self.password, basic}
        from urllib.parse import quote

        out.add(quote(self.password, safe=""))
        return tuple(s for s in out if len(s) >= 3)


def redact(url: str) -> str:
    """``url`` without user name, password or secret query parameters.

    >>> redact("https://alice:pw@cloud.example/remote.php/dav/files/alice/?token=x")
    'https://cloud.example/remote.php/dav/files/alice/?token=***'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<地址无法解析>"
    if not parts.scheme or not parts.netloc:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_PARAMS.match(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_userinfo(url: str) -> str:
    """``url`` without a ``user:password@`` part (everything else unchanged)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host if ":" not in host else f"[{host}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Remove secrets from a message: the given strings, and any ``user:pass@`` in URLs."""
    for s in sorted(secrets, key=len, reverse=True):
        if s:
            text = text.replace(s, "***")
    return re.sub(r"(?i)\b(https?://)[^/\s@]+@", r"\1", text)


def _netrc_lookup(host: str) -> tuple[str, str] | None:
    path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        auth = netrc.netrc(path).authenticators(host)
    except (netrc.NetrcParseError, OSError):
        return None
    if not auth:
        return None
    login, _account, password = auth
    return (login or "", password or "")


def resolve(url: str, *, default_user: str = "") -> tuple[str, Credentials | None]:
    """Split ``url`` into the URL to connect to (no credentials in it) and the credentials.

    ``default_user`` is used with ``DOSSIER_PASSWORD`` when neither ``DOSSIER_USER`` nor
    the URL names a user (the Nextcloud connector passes the user of its files path).
    """
    parts = urlsplit(url)
    url_user = unquote(parts.username) if parts.username else ""
    url_password = unquote(parts.password) if parts.password is not None else None
    host = parts.hostname or ""
    clean = url
    if parts.username is not None or parts.password is not None:
        netloc = host if ":" not in host else f"[{host}]"
        if parts.port:
            netloc += f":{parts.port}"
        clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    env_password = os.environ.get("DOSSIER_PASSWORD")
    creds: Credentials | None = None
    if env_password and host_allowed(parts, os.environ.get("DOSSIER_HOST", "")):
        user = os.environ.get("DOSSIER_USER") or url_user or default_user
        creds = Credentials(user, env_password, "env")
    if creds is None:
        found = _netrc_lookup(host) if host else None
        if found and found[1]:
            creds = Credentials(found[0] or url_user or default_user, found[1], "netrc")
    if creds is None and url_password is not None:
        creds = Credentials(url_user, url_password, "url")
    if creds is None and env_password:
        where = os.environ.get("DOSSIER_HOST", "")
        raise ConnectorError(
            f"DOSSIER_PASSWORD 只发送给 DOSSIER_HOST 指定的服务器（{where}），不发送给 {host}" if where else
            "已设置 DOSSIER_PASSWORD，但未用 DOSSIER_HOST 指定它属于哪台服务器（如 cloud.example.gov.cn）；"
            "为防止密码发往其他服务器，未使用该密码")
    if creds is not None:
        check_transport(parts)
    return clean, creds


def host_allowed(parts: Any, configured: str) -> bool:
    """Whether the URL ``parts`` is on a host named in ``configured`` (``DOSSIER_HOST``)."""
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return False
    for item in (x.strip().lower() for x in configured.split(",")):
        if not item:
            continue
        name, _, want_port = item.rpartition(":") if item.count(":") == 1 else (item, "", "")
        if name.strip("[]") == host and (not want_port or want_port == str(port or "")):
            return True
    return False


def check_transport(parts: Any) -> None:
    """Refuse to send credentials over plain http to anything but loopback (unless allowed)."""
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return
    if os.environ.get("DOSSIER_ALLOW_INSECURE_HTTP", "") in ("1", "true", "yes"):
        return
    raise ConnectorError(f"拒绝通过未加密的 http 向 {parts.hostname} 发送密码；请使用 https，"
                         "或在确知网络安全时设置 DOSSIER_ALLOW_INSECURE_HTTP=1")


def _is_loopback(host: str) -> bool:
    import ipaddress

    h = host.strip("[]").lower()
    if h == "localhost" or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False
