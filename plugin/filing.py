"""File stage: put a verified bundle into the leader's dossier folder in the DMS.

Through the destination's connector, whatever it is (a folder, WebDAV, Nextcloud):

1. refuse a bundle that does not verify;
2. if the same bundle is already there (same name, size and content -- compared through
   the server's checksum when it keeps one, else by streaming it back and hashing), do
   not upload again: filing is idempotent;
3. otherwise upload atomically (temporary name + MOVE, Nextcloud chunked upload included)
   and read back size and etag to confirm what arrived. Nothing is ever overwritten: a
   *different* bundle already filed under the name is kept, and this one is filed beside it
   as the next version (``…（第2版）.zip``); the final MOVE carries ``Overwrite: F`` (an
   exclusive link locally), so a bundle that appears in between is not lost either;
4. tag the bundle and the source folder ``已归档`` where the DMS has tags. A tagging
   failure does not undo a good filing: it is reported in ``warnings``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .connectors import (
    AlreadyExists,
    Connector,
    ConnectorError,
    Entry,
    QuotaExceededError,
    is_url,
    open_connector,
)
from .hashing import CHUNK, digest_file
from .lang.textnorm import nfc
from .verify.checks import verify_bundle

ARCHIVED_TAG = "已归档"


class FilingError(RuntimeError):
    """The bundle could not be filed (message in Chinese, without secrets)."""


@dataclass
class FileResult:
    location: str
    name: str
    size: int
    skipped: bool = False
    tagged: bool = False
    #: The server's etag of the filed bundle (read back after the upload).
    etag: str = ""
    sha256: str = ""
    #: The source folder was tagged too.
    source_tagged: bool = False
    #: Problems that did not stop the filing (e.g. a tag that could not be set).
    warnings: list[str] = field(default_factory=list)


def file_bundle(
    bundle: str | Path,
    dest: str | Connector,
    *,
    name: str | None = None,
    tag: str | None = ARCHIVED_TAG,
    verify_first: bool = True,
    source: str | Connector | None = None,
) -> FileResult:
    """Copy ``bundle`` into the folder ``dest`` atomically and confirm what arrived.

    ``source``: the folder the bundle was assembled from (path, URL or connector), to tag
    it ``已归档`` too (see :func:`recorded_source`); None tags only the bundle.
    Refuses a bundle that does not verify. Filing the same bundle again uploads
    nothing (it only makes sure the tags are there).
    """
    bundle = Path(bundle)
    if verify_first:
        report = verify_bundle(bundle, use_bagit=False)
        if not report.ok:
            first = report.failures[0]
            raise FilingError(f"档案包校验未通过，拒绝归档：{first.item} {first.message}")
    name = nfc(name or bundle.name)
    digests, size = digest_file(bundle, ("sha256",))
    sha256 = digests["sha256"]
    own = not isinstance(dest, Connector)
    try:
        conn = open_connector(str(dest)) if own else dest
    except ConnectorError as exc:
        raise FilingError(f"归档失败：{exc}") from exc
    try:
        result = _file(conn, bundle, name, size, sha256, tag)
        if tag and source is not None:
            _tag_source(result, source, tag)
        return result
    except QuotaExceededError as exc:
        raise FilingError(f"归档失败：{exc}。请清理目标位置或联系管理员增加存储配额后重试") from exc
    except ConnectorError as exc:
        raise FilingError(f"归档失败：{exc}") from exc
    finally:
        if own:
            conn.close()


#: Versions tried beside a different bundle of the same name before giving up.
MAX_VERSIONS = 99


def versioned(name: str, n: int) -> str:
    """``张三-离任交接档案.zip`` -> ``张三-离任交接档案（第2版）.zip`` (n >= 2)."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}（第{n}版）.{ext}" if dot and stem else f"{name}（第{n}版）"


def _file(conn: Connector, bundle: Path, name: str, size: int, sha256: str, tag: str | None) -> FileResult:
    result = FileResult(conn.display_url, name, size, sha256=sha256)
    made_dirs = False
    for n in range(1, MAX_VERSIONS + 1):
        candidate = name if n == 1 else versioned(name, n)
        existing = conn.stat(candidate)
        if existing is not None and existing.content_type == "httpd/unix-directory":
            if n == 1:
                raise FilingError(f"归档失败：目标位置已有同名文件夹：{name}")
            continue
        if existing is not None:
            if existing.size == size and _same_content(conn, existing, bundle, sha256):
                result.name, result.skipped, result.etag = candidate, True, existing.etag
                break
            continue  # a different bundle: kept as it is; this one becomes the next version
        if not made_dirs:
            conn.mkdirs("")
            made_dirs = True
        try:
            entry = conn.put(candidate, bundle, overwrite=False)
        except AlreadyExists:
            continue  # appeared since the check: kept, and the next version is tried
        if entry.size != size:
            raise FilingError(f"归档后核对失败：目标文件大小 {entry.size} 字节，应为 {size} 字节")
        result.name, result.etag = candidate, entry.etag
        break
    else:
        raise FilingError(f"归档失败：目标位置已有 {MAX_VERSIONS} 个不同的同名档案包：{name}")
    if result.name != name:
        result.warnings.append(f"目标位置已有内容不同的同名档案包“{name}”，已原样保留；本档案包另存为“{result.name}”")
    if tag:
        try:
            result.tagged = conn.tag(result.name, tag)
        except ConnectorError as exc:
            result.warnings.append(f"档案包已归档，但未能打上标签「{tag}」：{exc}")
    return result


def _same_content(conn: Connector, existing: Entry, bundle: Path, sha256: str) -> bool:
    """Whether the file already at the destination is this bundle."""
    local = conn.local_path(existing)
    if local is not None:
        try:
            return digest_file(local, ("sha256",))[0]["sha256"] == sha256
        except OSError:
            return False
    for alg, value in existing.checksums.items():
        try:
            mine = digest_file(bundle, (alg,))[0][alg]
        except ValueError:
            continue
        return mine.lower() == value.lower()
    h = hashlib.sha256()
    try:
        with conn.open(existing) as src:
            while chunk := src.read(CHUNK):
                h.update(chunk)
    except ConnectorError:
        return False
    return h.hexdigest() == sha256


def recorded_source(bundle: str | Path, near: str | None = None) -> str | None:
    """The source URL recorded in the bundle's ``index.json`` (credentials already removed),
    or None. With ``near``: only when it is on the same server as that URL (so that
    ``dossier file`` tags the source folder with the credentials it has for that server)."""
    found = _recorded_source(Path(bundle))
    if not found or not is_url(found):
        return None
    if near is not None:
        a, b = urlsplit(found), urlsplit(near)
        if not is_url(near) or (a.scheme, a.hostname, a.port) != (b.scheme, b.hostname, b.port):
            return None
    return found


def _recorded_source(bundle: Path) -> str | None:
    try:
        with zipfile.ZipFile(bundle) as zf:
            for n in zf.namelist():
                if n.endswith("/data/index.json") and n.count("/") == 2:
                    return json.loads(zf.read(n)).get("bundle", {}).get("source") or None
    except (OSError, zipfile.BadZipFile, ValueError, KeyError):
        return None
    return None


def _tag_source(result: FileResult, source: str | Connector | None, tag: str) -> None:
    if source is None or (isinstance(source, str) and not is_url(source)):
        return  # a local folder has no tags
    own = not isinstance(source, Connector)
    try:
        conn = open_connector(source) if own else source
    except ConnectorError as exc:
        result.warnings.append(f"未能给来源文件夹打上标签「{tag}」：{exc}")
        return
    try:
        result.source_tagged = conn.tag("", tag)
    except ConnectorError as exc:
        result.warnings.append(f"未能给来源文件夹打上标签「{tag}」：{exc}")
    finally:
        if own:
            conn.close()
