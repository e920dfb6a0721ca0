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
"""

from __future__ import annotations

import base64
import netrc
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["Credentials", "redact", "resolve", "scrub"]

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
    if env_password:
        user = os.environ.get("DOSSIER_USER") or url_user or default_user
        return clean, Credentials(user, env_password, "env")
    found = _netrc_lookup(host) if host else None
    if found and found[1]:
        return clean, Credentials(found[0] or url_user or default_user, found[1], "netrc")
    if url_password is not None:
        return clean, Credentials(url_user, url_password, "url")
    return clean, None
