"""Generic WebDAV connector (RFC 4918): any ``http://`` / ``https://`` collection URL.

- Listing: ``PROPFIND`` with ``Depth: 1`` on one folder at a time (never ``infinity``,
  which servers may refuse or answer with an unbounded body), children sorted by name.
- Reading: ``GET`` streamed, ``Accept-Encoding: identity`` so sizes and byte ranges
  refer to the stored bytes; ``Range`` + ``If-Range`` to resume an interrupted download.
- Writing: ``PUT`` under a temporary name in the target folder, then ``MOVE`` into
  place, then ``PROPFIND Depth 0`` to read back size and etag. Nobody ever sees a
  half-written file under the final name. ``put(..., overwrite=False)`` moves with
  ``Overwrite: F``: the server itself refuses (412) when the name is taken, so nothing
  there is ever replaced, even by a race. Temporary files older than an hour that an
  interrupted upload left in the target folder are removed.
- ``MKCOL`` for folders (405 = already there).

Names: the server's hrefs are decoded (any percent-encoding case) and the catalogue path
is their NFC form; requests are re-encoded with every byte outside ``A-Za-z0-9_.-~/``
percent-encoded, so spaces, ``#``, ``%``, ``?`` and Chinese names survive. The server's
own (possibly NFD) spelling is kept in :attr:`Entry.ref` for reading back.

:func:`open_webdav` opens any WebDAV URL; it is registered with :mod:`.registry` for every
``http(s)://`` URL, so :func:`~handover_dossier.connectors.open_connector` reaches it. The
Nextcloud connector (:mod:`.nextcloud`) builds on this one and registers with a higher
priority for Nextcloud files paths ``/remote.php/dav/files/USER/...``.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import email.utils
import mimetypes
import os
import posixpath
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .base import (
    STALE_TEMP_SECONDS,
    TEMP_PREFIXES,
    AlreadyExists,
    Connector,
    ConnectorError,
    DocumentUnavailable,
    Entry,
    join,
    nfc,
)
from .credentials import Credentials, redact, redact_userinfo, resolve
from .http import RETRY_STATUSES, HttpError, HttpSession, ResponseStream, RetryPolicy, TransferInterrupted
from .registry import register

__all__ = ["DavResource", "WebDavConnector", "open_webdav", "parse_multistatus", "propfind_body"]

DAV_NS = "DAV:"
NAMESPACES = {"d": "DAV:", "oc": "http://owncloud.org/ns", "nc": "http://nextcloud.org/ns"}

#: China Standard Time: term dates are calendar days in China.
CST = dt.timezone(dt.timedelta(hours=8), "CST")

_RISKY_IN_DESTINATION = re.compile(r"[?;]")
_NEXTCLOUD_PATH = re.compile(r"^(?P<prefix>.*?)/remote\.php/dav/files/(?P<user>[^/]+)(?P<rest>/.*)?$")


def dav_quote(path: str) -> str:
    """Percent-encode a decoded server path for a request line (UTF-8, '/' kept)."""
    return quote(path, safe="/")


def iri_quote(path: str) -> str:
    """Readable form of a server path for messages and the bundle's ``source``: Chinese
    stays as it is, while '%', '?', '#', spaces and controls are percent-encoded."""
    return "".join(c if ord(c) > 127 else quote(c, safe="/") for c in path)


def propfind_body(props: Iterable[tuple[str, str]], namespaces: Iterable[str] = ("d", "oc", "nc")) -> bytes:
    """A PROPFIND body asking for ``props`` (``(prefix, name)`` pairs) -- explicitly,
    because an empty body (allprop) leaves out the server-specific properties."""
    ns = " ".join(f'xmlns:{p}="{NAMESPACES[p]}"' for p in namespaces)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f"<d:propfind {ns}>", "  <d:prop>"]
    lines += [f"    <{p}:{name}/>" for p, name in props]
    lines += ["  </d:prop>", "</d:propfind>", ""]
    return "\n".join(lines).encode("utf-8")


GENERIC_PROPS: tuple[tuple[str, str], ...] = (
    ("d", "resourcetype"),
    ("d", "getcontentlength"),
    ("d", "getetag"),
    ("d", "getlastmodified"),
    ("d", "getcontenttype"),
)


@dataclass
class DavResource:
    """One ``<d:response>`` of a multistatus: decoded path plus the properties found (200)."""

    path: str
    is_collection: bool = False
    props: dict[str, ET.Element] = field(default_factory=dict)
    status: int = 200

    def text(self, qname: str) -> str:
        el = self.props.get(qname)
        return (el.text or "").strip() if el is not None else ""

    @property
    def etag(self) -> str:
        return unquote_etag(self.text("{DAV:}getetag"))

    @property
    def size(self) -> int | None:
        raw = self.text("{DAV:}getcontentlength")
        return int(raw) if raw.isdigit() else None

    @property
    def mtime(self) -> float | None:
        return parse_http_date(self.text("{DAV:}getlastmodified"))

    @property
    def content_type(self) -> str:
        return self.text("{DAV:}getcontenttype")

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.rstrip("/"))


def unquote_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def parse_http_date(value: str) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


_STATUS_LINE = re.compile(r"HTTP/\d(?:\.\d)?\s+(\d{3})")


def _status(el: ET.Element | None) -> int:
    if el is None or not el.text:
        return 200
    m = _STATUS_LINE.search(el.text)
    return int(m.group(1)) if m else 200


def parse_multistatus(body: bytes) -> list[DavResource]:
    """Parse a 207 Multi-Status body into resources (only properties with status 200).

    Hrefs may be absolute URLs or paths, in any percent-encoding case; the result holds
    the decoded path exactly as the server spells it (no normalisation).
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ConnectorError(f"服务器返回的目录列表无法解析（XML 错误：{exc}）") from None
    out: list[DavResource] = []
    for resp in root.iter(f"{{{DAV_NS}}}response"):
        href = resp.findtext(f"{{{DAV_NS}}}href") or ""
        path = unquote(urlsplit(href.strip()).path)
        res = DavResource(path=path, status=_status(resp.find(f"{{{DAV_NS}}}status")))
        for ps in resp.findall(f"{{{DAV_NS}}}propstat"):
            if _status(ps.find(f"{{{DAV_NS}}}status")) != 200:
                continue
            prop = ps.find(f"{{{DAV_NS}}}prop")
            if prop is None:
                continue
            for el in prop:
                res.props[el.tag] = el
        rt = res.props.get(f"{{{DAV_NS}}}resourcetype")
        res.is_collection = rt is not None and rt.find(f"{{{DAV_NS}}}collection") is not None
        out.append(res)
    return out


def term_bounds(start: dt.date | str, end: dt.date | str) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, day after end 00:00) in China Standard Time, as UTC datetimes."""
    s = dt.date.fromisoformat(start) if isinstance(start, str) else start
    e = dt.date.fromisoformat(end) if isinstance(end, str) else end
    lo = dt.datetime.combine(s, dt.time(), CST).astimezone(dt.UTC)
    hi = dt.datetime.combine(e + dt.timedelta(days=1), dt.time(), CST).astimezone(dt.UTC)
    return lo, hi


class _Slice:
    """A byte range of a local file as an upload body with a known length."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - HttpSession closes it after sending
        self._f.seek(offset)
        self._left = length
        self.len = length

    def __len__(self) -> int:
        return self.len

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._f.close()


class WebDavConnector(Connector):
    """A collection on a WebDAV server. Thread-safe (one pooled HTTP session)."""

    #: :meth:`open` accepts ``offset`` and resumes with a Range request.
    supports_range = True
    #: Folders listed at the same time while walking.
    list_threads: int = 4
    #: Properties asked for when listing.
    list_props: tuple[tuple[str, str], ...] = GENERIC_PROPS
    list_namespaces: tuple[str, ...] = ("d",)

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        policy: RetryPolicy | None = None,
        pool_size: int = 16,
        verify: bool | str = True,
        http: HttpSession | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectorError(f"不是有效的 WebDAV 地址：{redact(url)}")
        self.base = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        self.root_path = self._normalise_root(unquote(parts.path or "/"))
        self.display_url = redact(self.base + iri_quote(self.root_path))
        self.http = http or HttpSession(credentials, policy=policy, pool_size=pool_size, verify=verify)
        self.retry_policy = self.http.policy

    @staticmethod
    def _normalise_root(path: str) -> str:
        path = "/" + path.strip("/")
        return path if path == "/" else path + "/"

    @property
    def cache_namespace(self) -> str:
        """What makes :attr:`Entry.key` unique across sources (see fetch cache)."""
        return self.display_url

    # -- paths -----------------------------------------------------------------------
    def server_path(self, rel: str) -> str:
        """Decoded absolute server path of ``rel`` (relative to the root)."""
        rel = rel.strip("/")
        return self.root_path + rel if rel else self.root_path

    def url_for(self, server_path: str) -> str:
        return self.base + dav_quote(server_path)

    def _rel(self, server_path: str) -> str | None:
        """``server_path`` relative to the root, or None when it lies outside."""
        root = self.root_path
        p = server_path
        if not p.startswith(root):
            if nfc(p).startswith(nfc(root)):
                p, root = nfc(p), nfc(root)
            elif p.rstrip("/") + "/" == root:
                return ""
            else:
                return None
        return p[len(root):].strip("/")

    # -- PROPFIND --------------------------------------------------------------------
    def propfind(
        self, server_path: str, depth: int, props: Iterable[tuple[str, str]] | None = None, *, what: str = "列出文件夹"
    ) -> list[DavResource] | None:
        """PROPFIND ``server_path``; None on 404. 403 raises :class:`DocumentUnavailable`."""
        body = propfind_body(props or self.list_props, self.list_namespaces)
        resp = self.http.request(
            "PROPFIND",
            self.url_for(server_path),
            what=what,
            headers={"Content-Type": "application/xml; charset=utf-8", "Depth": str(depth)},
            body=body,
        )
        if resp.status_code == 404:
            resp.close()
            return None
        if resp.status_code == 403:
            resp.close()
            raise DocumentUnavailable("没有访问权限（HTTP 403）")
        if resp.status_code != 207:
            raise self._unexpected(resp, what)
        return parse_multistatus(resp.content)

    def _unexpected(self, resp: Any, what: str) -> ConnectorError:
        err = self.http.error_for(resp, what)
        if resp.status_code in RETRY_STATUSES or resp.status_code == 423:
            # Still failing after every retry: the run stops (and resumes later) rather
            # than recording a document as missing because of a passing outage.
            return TransferInterrupted(str(err))
        return err

    # -- reading ---------------------------------------------------------------------
    def walk(self) -> Iterator[Entry]:
        """Every file below the root, in name order (folders depth-first, like a local walk).

        Folders are listed with one Depth-1 PROPFIND each, several at a time (``list_threads``):
        the listing of a tree with many folders is bound by round trips, not bandwidth.
        """
        pool = cf.ThreadPoolExecutor(max_workers=max(1, self.list_threads), thread_name_prefix="dav-list")
        try:
            yield from self._walk_dir(pool, pool.submit(self.propfind, self.root_path, 1), self.root_path, "", top=True)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def walk_modified(self, start: dt.date | str, end: dt.date | str) -> Iterator[Entry]:
        """Only the documents last modified within the term (``--only-term``).

        A generic server has no search, so the tree is listed and filtered here;
        entries that cannot be read are still yielded (nothing silently dropped).
        """
        lo, hi = term_bounds(start, end)
        for e in self.walk():
            if e.problem or e.mtime is None or lo.timestamp() <= e.mtime < hi.timestamp():
                yield e

    def _walk_dir(
        self, pool: cf.ThreadPoolExecutor, listing: cf.Future, server_path: str, rel: str, *, top: bool = False
    ) -> Iterator[Entry]:
        try:
            resources = listing.result()
        except DocumentUnavailable as exc:
            if top:
                raise ConnectorError(f"无法读取来源文件夹：{exc}：{self.display_url}") from None
            yield Entry(path=rel or ".", size=0, ref=server_path, problem=f"无法读取文件夹：{exc}")
            return
        if resources is None:
            if top:
                raise ConnectorError(f"来源文件夹不存在：{self.display_url}")
            yield Entry(path=rel or ".", size=0, ref=server_path, problem="无法读取文件夹：服务器上已不存在（HTTP 404）")
            return
        me = server_path.rstrip("/")
        children: list[tuple[str, DavResource]] = []
        for res in resources:
            p = res.path.rstrip("/")
            if p == me or nfc(p) == nfc(me):
                if top and not res.is_collection:
                    raise ConnectorError(f"来源地址不是文件夹：{self.display_url}")
                continue
            parent, _, name = p.rpartition("/")
            if (parent != me and nfc(parent) != nfc(me)) or name in ("", ".", ".."):
                continue  # not a direct child: ignore rather than trust it
            children.append((nfc(name), res))
        children.sort(key=lambda c: c[0])
        # Ask for every subfolder now; they are read back in name order below.
        sub = {res.path: pool.submit(self.propfind, res.path.rstrip("/") + "/", 1) for _, res in children
               if res.is_collection}
        for name, res in children:
            path = join(rel, name)
            if res.is_collection:
                yield from self._walk_dir(pool, sub[res.path], res.path.rstrip("/") + "/", path)
            else:
                yield self.entry_from(path, res)

    def entry_from(self, path: str, res: DavResource) -> Entry:
        """Build an :class:`Entry` from a listed resource (the Nextcloud layer adds ids, tags...)."""
        return Entry(
            path=path,
            size=res.size or 0,
            etag=res.etag,
            mtime=res.mtime,
            content_type=res.content_type,
            ref=res.path,
        )

    def open(self, entry: Entry, offset: int = 0) -> ResponseStream:
        """Stream the document; from ``offset`` when > 0 (check ``.start`` on the result:
        a server that ignores ranges sends the whole body and ``start`` is 0)."""
        server_path = entry.ref or self.server_path(entry.path)
        headers = {"Accept-Encoding": "identity"}
        if offset > 0:
            headers["Range"] = f"bytes={offset}-"
            if entry.etag:
                headers["If-Range"] = f'"{entry.etag}"'
        resp = self.http.request("GET", self.url_for(server_path), what=f"下载 {entry.path}", headers=headers, stream=True)
        status = resp.status_code
        if status == 200:
            return ResponseStream(resp, 0, scrubber=self.http.scrub)
        if status == 206:
            m = re.match(r"bytes\s+(\d+)-", resp.headers.get("Content-Range", ""))
            start = int(m.group(1)) if m else -1
            if start == offset:
                return ResponseStream(resp, start, scrubber=self.http.scrub)
            resp.close()
            return self.open(entry, 0)
        if status == 416 and offset > 0:
            resp.close()
            return self.open(entry, 0)
        if status in (404, 410):
            resp.close()
            raise DocumentUnavailable(f"服务器上找不到该文件（HTTP {status}），可能已被移动或删除")
        if status == 403:
            resp.close()
            raise DocumentUnavailable("没有读取该文件的权限（HTTP 403）")
        err = self._unexpected(resp, f"下载 {entry.path}")
        if isinstance(err, TransferInterrupted):
            raise err
        raise DocumentUnavailable(str(err))

    def stat(self, path: str) -> Entry | None:
        server_path = self.server_path(nfc(path))
        try:
            resources = self.propfind(server_path, 0, what="查询")
        except DocumentUnavailable:
            return None
        if not resources:
            return None
        res = resources[0]
        rel = nfc(path.strip("/"))
        entry = self.entry_from(rel, res)
        if res.is_collection:
            return Entry(
                path=rel, size=0, id=entry.id, etag=entry.etag, mtime=entry.mtime,
                content_type="httpd/unix-directory", tags=entry.tags, ref=res.path,
            )
        return entry

    # -- writing ---------------------------------------------------------------------
    def mkdirs(self, path: str) -> None:
        """Create the folder ``path`` below the root, and the root and its ancestors as
        needed (found by walking up to the first folder that exists)."""
        target = self.server_path(nfc(path)).rstrip("/") + "/"
        missing: list[str] = []
        probe = target
        while True:
            found = self.propfind(probe, 0, [("d", "resourcetype")], what="检查文件夹")
            if found:
                if not found[0].is_collection:
                    raise ConnectorError(f"目标位置已有同名文件，不是文件夹：{redact(self.url_for(probe))}")
                break
            missing.append(probe)
            parent = posixpath.dirname(probe.rstrip("/"))
            if parent in ("", "/"):
                break
            probe = parent + "/"
        for folder in reversed(missing):
            self._mkcol(folder)

    def _mkcol(self, server_path: str, headers: dict[str, str] | None = None) -> None:
        resp = self.http.request("MKCOL", self.url_for(server_path), what="新建文件夹", headers=headers)
        resp.close()
        if resp.status_code in (200, 201, 204, 405):
            return
        raise self._unexpected(resp, "新建文件夹")

    def delete(self, server_path: str) -> bool:
        """Best-effort removal (temporary uploads). True when it is gone."""
        try:
            resp = self.http.request("DELETE", self.url_for(server_path), what="删除临时文件")
        except ConnectorError:
            return False
        resp.close()
        return resp.status_code in (200, 204, 404)

    def temp_name(self, name: str) -> str:
        # Hidden, and not ending in ".part" (a suffix Nextcloud refuses for uploads).
        return f".~dossier-{uuid.uuid4().hex[:16]}.tmp"

    def put(self, path: str, source: Path, *, overwrite: bool = True) -> Entry:
        """Upload ``source`` to ``path`` atomically: PUT a temporary name, MOVE it into
        place (``Overwrite: F`` unless ``overwrite``), then read back size and etag to
        confirm what arrived."""
        path = nfc(path.strip("/"))
        source = Path(source)
        size = source.stat().st_size
        final = self.server_path(path)
        parent = posixpath.dirname(final.rstrip("/")) + "/"
        tmp = parent + self.temp_name(posixpath.basename(final))
        self.before_upload(parent, size)
        self.remove_stale_temps(parent)
        # Some servers (WsgiDAV 4.4) percent-decode a Destination header before parsing it,
        # which cuts a name at "?" or ";". For such names: never overwrite (a cut name
        # could be someone else's file), and check what was created.
        risky = bool(_RISKY_IN_DESTINATION.search(posixpath.basename(final)))
        before = self._listing(parent) if risky else {}
        refused = (
            f"服务器未能正确处理名称中的“?”或“;”（移动目标被截断），未能存放：{posixpath.basename(final)}；"
            "请改用不含这些字符的名称"
        )
        try:
            self.upload_temp(tmp, source, size, final=final)
            self.move(tmp, final, overwrite=overwrite and not risky)
        except HttpError as exc:
            self.delete(tmp)
            if exc.status == 412 and (not overwrite) and (not risky or self.stat(path) is not None):
                raise AlreadyExists(f"目标位置已有同名文件，未覆盖：{posixpath.basename(final)}") from None
            if risky and exc.status == 412:
                raise ConnectorError(refused) from None
            raise
        except BaseException:
            self.delete(tmp)
            raise
        if risky and self.stat(path) is None:
            for name, (server_path, got_size) in self._listing(parent).items():
                if name not in before and got_size == size:
                    self.delete(server_path)
            raise ConnectorError(refused)
        return self.confirm(path, size)

    def upload_temp(self, tmp: str, source: Path, size: int, *, final: str) -> None:
        """Put the bytes under the temporary name ``tmp`` (the Nextcloud layer uses chunked
        upload for large files)."""
        self.upload_file(tmp, source, size, final=final)

    def remove_stale_temps(self, folder: str, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Delete upload leftovers (``.~dossier-*.tmp``) older than ``older_than`` seconds in
        ``folder`` (best effort: a failure never stops an upload)."""
        import time

        try:
            found = self.propfind(folder, 1, [("d", "resourcetype"), ("d", "getlastmodified")], what="列出文件夹") or []
        except ConnectorError:
            return 0
        removed = 0
        for r in found:
            if r.is_collection or not r.name.startswith(TEMP_PREFIXES[0]) or not r.name.endswith(".tmp"):
                continue
            if r.mtime is not None and time.time() - r.mtime > older_than and self.delete(r.path):
                removed += 1
        return removed

    def _listing(self, folder: str) -> dict[str, tuple[str, int]]:
        """Files directly in ``folder``: name -> (server path, size)."""
        found = self.propfind(folder, 1, [("d", "resourcetype"), ("d", "getcontentlength")], what="列出文件夹") or []
        me = folder.rstrip("/")
        return {r.name: (r.path, r.size or 0) for r in found if not r.is_collection and r.path.rstrip("/") != me}

    def before_upload(self, parent: str, size: int) -> None:
        """Hook: checks before an upload (the Nextcloud layer looks at quota and permissions)."""

    def upload_headers(self, source: Path) -> dict[str, str]:
        ctype = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        return {"Content-Type": ctype}

    def upload_file(
        self, server_path: str, source: Path, size: int, *, final: str = "", headers: dict[str, str] | None = None
    ) -> Any:
        headers = headers if headers is not None else self.upload_headers(source)
        what = f"上传 {posixpath.basename(final or server_path)}"
        resp = self.http.request(
            "PUT", self.url_for(server_path), what=what, headers=headers, body=lambda: _Slice(source, 0, size)
        )
        resp.close()
        if resp.status_code in (404, 409):
            # Parent folder missing (RFC 4918 says 409; Nextcloud answers 404).
            parent_rel = self._rel(posixpath.dirname(server_path.rstrip("/")))
            if parent_rel is None:
                raise self._unexpected(resp, what)
            self.mkdirs(parent_rel)
            resp = self.http.request(
                "PUT", self.url_for(server_path), what=what, headers=headers, body=lambda: _Slice(source, 0, size)
            )
            resp.close()
        if resp.status_code not in (200, 201, 204):
            raise self._unexpected(resp, what)
        return resp

    def move(self, src: str, dst: str, *, overwrite: bool = True) -> None:
        headers = {"Destination": self.url_for(dst), "Overwrite": "T" if overwrite else "F"}
        resp = self.http.request("MOVE", self.url_for(src), what="移动到位", headers=headers)
        resp.close()
        if resp.status_code in (200, 201, 204):
            return
        if resp.status_code == 404 and self.propfind(dst, 0, [("d", "getetag")], what="检查") is not None:
            return  # an earlier attempt went through before its answer was lost
        raise self._unexpected(resp, "移动到位")

    def confirm(self, path: str, size: int) -> Entry:
        got = self.stat(path)
        if got is None:
            raise ConnectorError(f"上传后在服务器上找不到文件：{redact(self.url_for(self.server_path(path)))}")
        if got.size != size:
            raise ConnectorError(f"上传后核对失败：服务器上的大小为 {got.size} 字节，应为 {size} 字节")
        return got

    def close(self) -> None:
        self.http.close()


def connect_options(url: str, options: dict[str, Any], *, default_user: str = "") -> tuple[str, dict[str, Any]]:
    """The URL without credentials, and the options with the credentials to use.

    Credentials come from ``options["credentials"]`` when given, else from the environment,
    ``~/.netrc`` or the URL (:func:`.credentials.resolve`); ``DOSSIER_CA_BUNDLE`` sets TLS
    verification when ``verify`` is not given.
    """
    options = dict(options)
    if "credentials" in options:  # the caller decided (the ExApp authenticates with AppAPI headers)
        creds = options.pop("credentials")
        clean = redact_userinfo(url)
    else:
        clean, creds = resolve(url, default_user=default_user)
    if "verify" not in options and os.environ.get("DOSSIER_CA_BUNDLE"):
        options["verify"] = os.environ["DOSSIER_CA_BUNDLE"]
    return clean, {**options, "credentials": creds}


def open_webdav(url: str, **options: Any) -> Connector:
    """Open a generic WebDAV location.

    Options: ``policy`` (:class:`RetryPolicy`), ``pool_size``, ``verify`` (TLS: bool or
    CA bundle path; ``DOSSIER_CA_BUNDLE`` also works), ``credentials`` (skip lookup).
    """
    clean, options = connect_options(url, options)
    return WebDavConnector(clean, **options)


def is_nextcloud_url(url: str) -> bool:
    """True for a Nextcloud files URL (``…/remote.php/dav/files/USER/…``)."""
    return bool(_NEXTCLOUD_PATH.match(unquote(urlsplit(url).path or "/")))


register("webdav", lambda url: url.startswith(("http://", "https://")), open_webdav)
