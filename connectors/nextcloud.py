"""Nextcloud: a thin layer over the generic WebDAV connector.

Switched on by the path ``/remote.php/dav/files/USER/...``. What it adds (request and
response shapes follow the exchanges recorded from a real Nextcloud 27 in
``../shared/fixtures/nextcloud/``):

- listing asks for the ``oc:``/``nc:`` properties explicitly (an empty PROPFIND body
  leaves them out): ``oc:fileid`` (the stable id the download cache is keyed on),
  ``oc:checksums`` (verified after download), ``oc:permissions``, ``nc:mount-type``
  (shared and group folders are walked like any folder), ``nc:system-tags`` and the
  private ``oc:tags`` (a tag ``交接:C6`` overrides the classifier);
- ``--only-term``: DAV ``SEARCH`` (basicsearch) on ``d:getlastmodified`` within the term;
- system tags: read while listing; :meth:`NextcloudConnector.tag` creates the tag when
  it does not exist (409 = someone else just did) and assigns it (409 = already);
- uploads above ``chunk_threshold`` use chunked upload v2 (``MKCOL`` an upload folder,
  ``PUT`` numbered chunks with ``Destination`` and ``OC-Total-Length``, ``MOVE .file``);
  smaller ones a ``PUT`` of a temporary name with ``X-Hash: sha256`` (checked against the
  server's ``X-Hash-SHA256``) and ``OC-Checksum: SHA1:...`` (kept by the server, so a
  later run can compare without downloading), then ``MOVE`` into place. Free space and
  the folder's create permission are checked first, for a clear message instead of a
  failure halfway;
- names are NFC (macOS sends NFD; Nextcloud stores NFC).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from .base import ConnectorError, DocumentUnavailable, Entry, QuotaExceededError, nfc
from .http import RETRY_STATUSES, sabre_error
from .registry import register
from .webdav import (
    _NEXTCLOUD_PATH,
    NAMESPACES,
    DavResource,
    WebDavConnector,
    _Slice,
    connect_options,
    is_nextcloud_url,
    parse_multistatus,
    propfind_body,
    term_bounds,
)

__all__ = ["NC_PROPS", "NextcloudConnector", "NodeInfo", "parse_checksums", "search_body"]

OC = NAMESPACES["oc"]
NC = NAMESPACES["nc"]

#: The properties asked for when listing (same set and order as the recorded walk).
NC_PROPS: tuple[tuple[str, str], ...] = (
    ("d", "getlastmodified"),
    ("d", "getetag"),
    ("d", "getcontenttype"),
    ("d", "getcontentlength"),
    ("d", "resourcetype"),
    ("oc", "fileid"),
    ("oc", "id"),
    ("oc", "size"),
    ("oc", "permissions"),
    ("oc", "checksums"),
    ("oc", "owner-id"),
    ("oc", "owner-display-name"),
    ("oc", "share-types"),
    ("nc", "mount-type"),
    ("nc", "has-preview"),
    ("nc", "system-tags"),
    ("oc", "tags"),
)

TAG_PROPS: tuple[tuple[str, str], ...] = (
    ("oc", "id"),
    ("oc", "display-name"),
    ("oc", "user-visible"),
    ("oc", "user-assignable"),
    ("oc", "can-assign"),
)

QUOTA_PROPS: tuple[tuple[str, str], ...] = (
    ("d", "quota-available-bytes"),
    ("d", "quota-used-bytes"),
    ("oc", "size"),
    ("oc", "permissions"),
)

MiB = 1 << 20


@dataclass(frozen=True)
class NodeInfo:
    """Nextcloud facts about a listed file or folder that :class:`Entry` has no field for."""

    fileid: str
    permissions: str
    mount_type: str
    owner: str
    share_types: tuple[str, ...]
    is_dir: bool


def parse_checksums(el: ET.Element | None) -> dict[str, str]:
    """``<oc:checksums><oc:checksum>SHA1:ab.. MD5:cd..</oc:checksum></oc:checksums>`` ->
    ``{"sha1": "ab..", "md5": "cd.."}`` (only algorithms hashlib can recompute)."""
    out: dict[str, str] = {}
    if el is None:
        return out
    for c in el.iter(f"{{{OC}}}checksum"):
        for token in (c.text or "").split():
            alg, _, value = token.partition(":")
            alg = alg.strip().lower()
            if not value or alg not in hashlib.algorithms_available:
                continue
            out[alg] = value.strip().lower()
    return out


def _iso_z(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_body(scope: str, after: dt.datetime, before: dt.datetime, props: tuple[tuple[str, str], ...] = NC_PROPS) -> bytes:
    """A basicsearch for files with ``after < d:getlastmodified < before`` below ``scope``
    (``/files/USER/folder``, a raw UTF-8 path as in the recorded request)."""
    select = "".join(f"<{p}:{n}/>" for p, n in props)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<d:searchrequest xmlns:d="{NAMESPACES["d"]}" xmlns:oc="{OC}" xmlns:nc="{NC}">',
        "  <d:basicsearch>",
        f"    <d:select><d:prop>{select}</d:prop></d:select>",
        f"    <d:from><d:scope><d:href>{escape(scope)}</d:href><d:depth>infinity</d:depth></d:scope></d:from>",
        "    <d:where>",
        "      <d:and>",
        f"        <d:gt><d:prop><d:getlastmodified/></d:prop><d:literal>{_iso_z(after)}</d:literal></d:gt>",
        f"        <d:lt><d:prop><d:getlastmodified/></d:prop><d:literal>{_iso_z(before)}</d:literal></d:lt>",
        "      </d:and>",
        "    </d:where>",
        "    <d:orderby/>",
        "  </d:basicsearch>",
        "</d:searchrequest>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


class NextcloudConnector(WebDavConnector):
    """A folder in a user's Nextcloud files (``/remote.php/dav/files/USER/PATH``)."""

    list_props = NC_PROPS
    list_namespaces = ("d", "oc", "nc")

    def __init__(
        self,
        url: str,
        *,
        chunk_threshold: int = 10 * MiB,
        chunk_size: int = 5 * MiB,
        **options: Any,
    ) -> None:
        parts = urlsplit(url)
        # Nextcloud stores names in NFC; a path typed or pasted on macOS may be NFD.
        path = dav_path = nfc(unquote(parts.path or "/"))
        url = urlunsplit((parts.scheme, parts.netloc, quote(dav_path, safe="/"), parts.query, ""))
        super().__init__(url, **options)
        m = _NEXTCLOUD_PATH.match(path)
        if not m:
            raise ConnectorError(f"不是 Nextcloud 文件地址：{self.display_url}")
        self.user = m.group("user")
        self.dav_root = f"{m.group('prefix')}/remote.php/dav"
        self.files_root = f"{self.dav_root}/files/{self.user}/"
        self.chunk_threshold = max(0, chunk_threshold)
        # Nextcloud wants chunks of 5 MiB .. 5 GiB (all but the last).
        self.chunk_size = min(max(chunk_size, 5 * MiB), 5 << 30)
        self.nodes: dict[str, NodeInfo] = {}
        self._tag_ids: dict[str, str] = {}

    @property
    def cache_namespace(self) -> str:
        # oc:fileid is unique per server instance, whatever folder was opened.
        return f"nextcloud:{self.base}{self.dav_root}"

    # -- listing ---------------------------------------------------------------------
    def entry_from(self, path: str, res: DavResource) -> Entry:
        tags: list[str] = []
        st = res.props.get(f"{{{NC}}}system-tags")
        if st is not None:
            tags += [nfc(t.text.strip()) for t in st.iter(f"{{{NC}}}system-tag") if t.text and t.text.strip()]
        private = res.props.get(f"{{{OC}}}tags")
        if private is not None:
            tags += [nfc(t.text.strip()) for t in private.iter(f"{{{OC}}}tag") if t.text and t.text.strip()]
        size = res.size
        if size is None:
            raw = res.text(f"{{{OC}}}size")
            size = int(raw) if raw.isdigit() else 0
        share_types = res.props.get(f"{{{OC}}}share-types")
        self.nodes[path] = NodeInfo(
            fileid=res.text(f"{{{OC}}}fileid"),
            permissions=res.text(f"{{{OC}}}permissions"),
            mount_type=res.text(f"{{{NC}}}mount-type"),
            owner=res.text(f"{{{OC}}}owner-id"),
            share_types=tuple((t.text or "").strip() for t in share_types) if share_types is not None else (),
            is_dir=res.is_collection,
        )
        return Entry(
            path=path,
            size=size,
            id=res.text(f"{{{OC}}}fileid"),
            etag=res.etag,
            mtime=res.mtime,
            content_type=res.content_type,
            checksums=parse_checksums(res.props.get(f"{{{OC}}}checksums")),
            tags=tuple(dict.fromkeys(tags)),
            ref=res.path,
        )

    def search_scope(self) -> str:
        rel = self.root_path[len(self.files_root) :].strip("/") if self.root_path.startswith(self.files_root) else ""
        return f"/files/{self.user}" + (f"/{rel}" if rel else "")

    def walk_modified(self, start: dt.date | str, end: dt.date | str) -> Iterator[Entry]:
        """Files below the root last modified within the term, found by DAV SEARCH."""
        lo, hi = term_bounds(start, end)
        body = search_body(self.search_scope(), lo - dt.timedelta(seconds=1), hi)
        what = "按任期搜索文件"
        resp = self.http.request(
            "SEARCH",
            self.url_for(self.dav_root + "/"),
            what=what,
            headers={"Content-Type": "text/xml; charset=utf-8"},
            body=body,
            # Nextcloud answers 500 for a scope it cannot search (another user's folder):
            # retrying will not help.
            retry_statuses=RETRY_STATUSES - {500},
        )
        if resp.status_code == 404:
            resp.close()
            raise ConnectorError(f"来源文件夹不存在：{self.display_url}")
        if resp.status_code == 500:
            exc, message = sabre_error(resp.text)
            if "InvalidArgument" in exc:
                raise ConnectorError(f"服务器无法在此范围内搜索（{message}），来源须是当前用户自己的文件夹：{self.display_url}")
        if resp.status_code != 207:
            raise self._unexpected(resp, what)
        found: list[Entry] = []
        for res in parse_multistatus(resp.content):
            if res.is_collection:
                continue
            rel = self._rel(res.path)
            if not rel:
                continue
            found.append(self.entry_from(nfc(rel), res))
        found.sort(key=lambda e: e.path)
        yield from found

    # -- tags ------------------------------------------------------------------------
    def list_tags(self) -> dict[str, str]:
        """All system tags visible to the user: name -> id."""
        url = self.url_for(f"{self.dav_root}/systemtags/")
        resp = self.http.request(
            "PROPFIND",
            url,
            what="读取系统标签",
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            body=propfind_body(TAG_PROPS),
        )
        if resp.status_code != 207:
            raise self._unexpected(resp, "读取系统标签")
        tags: dict[str, str] = {}
        for res in parse_multistatus(resp.content):
            tid, name = res.text(f"{{{OC}}}id"), res.text(f"{{{OC}}}display-name")
            if tid and name:
                tags[nfc(name)] = tid
        return tags

    def tag_id(self, name: str, *, create: bool = True) -> str | None:
        name = nfc(name)
        if name in self._tag_ids:
            return self._tag_ids[name]
        tags = self.list_tags()
        if name not in tags and create:
            body = json.dumps(
                {"name": name, "userVisible": True, "userAssignable": True, "canAssign": True}, ensure_ascii=False
            ).encode("utf-8")
            resp = self.http.request(
                "POST",
                self.url_for(f"{self.dav_root}/systemtags/"),
                what=f"新建标签「{name}」",
                headers={"Content-Type": "application/json"},
                body=body,
            )
            resp.close()
            created = resp.headers.get("Content-Location", "").rstrip("/").rsplit("/", 1)[-1]
            if resp.status_code == 201 and created.isdigit():
                tags[name] = created
            elif resp.status_code in (201, 409):
                tags = self.list_tags()  # 409: created meanwhile by someone else
            else:
                raise self._unexpected(resp, f"新建标签「{name}」")
        tid = tags.get(name)
        if tid:
            self._tag_ids[name] = tid
        return tid

    def tag(self, path: str, tag: str) -> bool:
        """Assign the system tag ``tag`` (created when missing) to the file or folder at
        ``path``; ``""`` is the root folder. Idempotent."""
        entry = self.stat(path)
        if entry is None or not entry.id:
            raise DocumentUnavailable(f"无法打标签：服务器上找不到{path or '来源文件夹'}")
        tid = self.tag_id(tag)
        if not tid:
            raise ConnectorError(f"无法新建或找到标签「{tag}」")
        return self.assign_tag(entry.id, tid, tag)

    def assign_tag(self, fileid: str, tag_id: str, name: str = "") -> bool:
        what = f"打标签「{name or tag_id}」"
        resp = self.http.request(
            "PUT", self.url_for(f"{self.dav_root}/systemtags-relations/files/{fileid}/{tag_id}"), what=what
        )
        resp.close()
        if resp.status_code in (200, 201, 204, 409):  # 409: already assigned
            return True
        raise self._unexpected(resp, what)

    # -- uploads ---------------------------------------------------------------------
    def before_upload(self, parent: str, size: int) -> None:
        try:
            found = self.propfind(parent, 0, QUOTA_PROPS, what="检查目标文件夹")
        except DocumentUnavailable:
            return
        if not found:
            return
        res = found[0]
        perms = res.text(f"{{{OC}}}permissions")
        if perms and "C" not in perms:
            raise ConnectorError(f"没有在目标文件夹中新建文件的权限（Nextcloud 权限 {perms}）：{self.display_url}")
        raw = res.text("{DAV:}quota-available-bytes")
        try:
            free = int(raw)
        except ValueError:
            return
        if 0 <= free < size:
            raise QuotaExceededError(
                f"目标位置存储空间不足：需要 {size:,} 字节，可用 {free:,} 字节：{self.display_url}"
            )

    def upload_file(
        self, server_path: str, source: Path, size: int, *, final: str = "", headers: dict[str, str] | None = None
    ) -> Any:
        headers = dict(headers if headers is not None else self.upload_headers(source))
        sha1, sha256 = hashlib.sha1(), hashlib.sha256()
        with open(source, "rb") as f:
            while chunk := f.read(MiB):
                sha1.update(chunk)
                sha256.update(chunk)
        # X-Hash: the server hashes what it received (recorded: put-x-hash-sha256);
        # OC-Checksum: stored and listed as oc:checksums (recorded: put-with-oc-checksum-sha1).
        headers["X-Hash"] = "sha256"
        headers["OC-Checksum"] = f"SHA1:{sha1.hexdigest()}"
        resp = super().upload_file(server_path, source, size, final=final, headers=headers)
        got = resp.headers.get("X-Hash-SHA256", "").strip().lower()
        if got and got != sha256.hexdigest():
            raise ConnectorError("上传校验失败：服务器收到的内容与本地档案包的 SHA-256 不一致")
        return resp

    def upload_temp(self, tmp: str, source: Path, size: int, *, final: str) -> None:
        """Large files go up in chunks, assembled under the temporary name; the generic
        ``put`` then moves them into place with the same no-overwrite rule as small ones."""
        if size <= self.chunk_threshold:
            super().upload_temp(tmp, source, size, final=final)
            return
        parent_rel = self._rel(posixpath.dirname(tmp.rstrip("/")) + "/")
        if parent_rel:
            self.mkdirs(parent_rel)
        self.chunked_upload(tmp, source, size)

    def chunked_upload(self, final: str, source: Path, size: int) -> None:
        """Chunked upload v2: MKCOL, PUT 00001..., MOVE .file (atomic at the final MOVE)."""
        upload = f"{self.dav_root}/uploads/{self.user}/dossier-upload-{uuid.uuid4().hex[:16]}"
        headers = {"Destination": self.url_for(final), "OC-Total-Length": str(size)}
        name = posixpath.basename(final)
        self._mkcol(upload, headers=headers)
        try:
            for n, offset in enumerate(range(0, size, self.chunk_size), 1):
                length = min(self.chunk_size, size - offset)
                resp = self.http.request(
                    "PUT",
                    self.url_for(f"{upload}/{n:05d}"),
                    what=f"上传 {name}（第 {n} 块）",
                    headers={**headers, "Content-Type": "application/octet-stream"},
                    body=lambda o=offset, k=length: _Slice(source, o, k),
                )
                resp.close()
                if resp.status_code not in (200, 201, 204):
                    raise self._unexpected(resp, f"上传 {name}（第 {n} 块）")
            resp = self.http.request("MOVE", self.url_for(f"{upload}/.file"), what=f"合并 {name}", headers=headers)
            resp.close()
            if resp.status_code not in (200, 201, 204) and not (
                resp.status_code == 404 and self.propfind(final, 0, [("d", "getetag")], what="检查") is not None
            ):
                raise self._unexpected(resp, f"合并 {name}")
        except BaseException:
            self._abort_upload(upload, headers)
            raise

    def _abort_upload(self, upload: str, headers: dict[str, str]) -> None:
        try:
            resp = self.http.request("DELETE", self.url_for(upload), what="取消分块上传", headers=headers)
            resp.close()
        except ConnectorError:
            pass


def open_nextcloud(url: str, **options: Any) -> NextcloudConnector:
    """Open a Nextcloud files URL; the user in the path is the default login.

    Options: those of :func:`.webdav.open_webdav`, and ``chunk_threshold`` / ``chunk_size``.
    """
    m = _NEXTCLOUD_PATH.match(unquote(urlsplit(url).path or "/"))
    clean, options = connect_options(url, options, default_user=m.group("user") if m else "")
    return NextcloudConnector(clean, **options)


register("nextcloud", is_nextcloud_url, open_nextcloud, priority=10)
