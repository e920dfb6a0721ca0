"""File stage: put a verified bundle into the leader's dossier folder in the DMS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .connectors import Connector, ConnectorError, open_connector
from .hashing import digest_file
from .verify import verify_bundle

ARCHIVED_TAG = "已归档"


class FilingError(RuntimeError):
    """The bundle could not be filed (message in Chinese)."""


@dataclass
class FileResult:
    location: str
    name: str
    size: int
    skipped: bool = False
    tagged: bool = False


def file_bundle(
    bundle: str | Path,
    dest: str | Connector,
    *,
    name: str | None = None,
    tag: str | None = ARCHIVED_TAG,
    verify_first: bool = True,
) -> FileResult:
    """Copy ``bundle`` into the folder ``dest`` atomically and confirm what arrived.

    Refuses to file a bundle that does not verify. Filing the same bundle again is a
    no-op (same name, same size and digest already there).
    """
    bundle = Path(bundle)
    if verify_first:
        report = verify_bundle(bundle, use_bagit=False)
        if not report.ok:
            first = report.failures[0]
            raise FilingError(f"档案包校验未通过，拒绝归档：{first.item} {first.message}")
    name = name or bundle.name
    size = bundle.stat().st_size
    try:
        conn = dest if isinstance(dest, Connector) else open_connector(str(dest))
        existing = conn.stat(name)
        local = conn.local_path(existing) if existing else None
        if existing and existing.size == size and local is not None and digest_file(local, ("sha256",)) == digest_file(bundle, ("sha256",)):
            return FileResult(conn.display_url, name, size, skipped=True, tagged=conn.tag(name, tag) if tag else False)
        conn.mkdirs("")
        entry = conn.put(name, bundle)
        if entry.size != size:
            raise FilingError(f"归档后核对失败：目标文件大小 {entry.size} 字节，应为 {size} 字节")
        tagged = conn.tag(name, tag) if tag else False
        return FileResult(conn.display_url, name, size, tagged=tagged)
    except ConnectorError as exc:
        raise FilingError(f"归档失败：{exc}") from exc
