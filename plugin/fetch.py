"""Fetch stage: bring each listed document to a local file and fingerprint it.

Local sources are read in place (no copy). Remote documents stream into a cache keyed by
the server's stable id and etag, so a re-run downloads only what changed. Digests
(SHA-256 and SM3) are computed while the bytes stream by, never in a second pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .connectors import Connector, DocumentUnavailable, Entry
from .hashing import CHUNK, MultiHasher, bag_algorithms, digest_file


@dataclass
class Fetched:
    entry: Entry
    local: Path
    digests: dict[str, str]
    size: int
    from_cache: bool = False
    downloaded_bytes: int = 0


@dataclass
class FetchStats:
    documents: int = 0
    downloaded: int = 0
    cached: int = 0
    local: int = 0
    bytes_downloaded: int = 0
    bytes_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, f: Fetched) -> None:
        with self._lock:
            self.documents += 1
            self.bytes_total += f.size
            if f.downloaded_bytes:
                self.downloaded += 1
                self.bytes_downloaded += f.downloaded_bytes
            elif f.from_cache:
                self.cached += 1
            else:
                self.local += 1

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


class Fetcher:
    """Fetch documents from one connector (thread-safe)."""

    def __init__(self, connector: Connector, cache: Path | None = None) -> None:
        self.connector = connector
        self.cache = cache
        self.algorithms = bag_algorithms()
        self.stats = FetchStats()

    def fetch(self, entry: Entry) -> Fetched:
        local = self.connector.local_path(entry)
        if local is not None:
            try:
                digests, size = digest_file(local, self.algorithms)
            except OSError as exc:
                raise DocumentUnavailable(f"无法读取：{exc.strerror or exc}") from exc
            f = Fetched(entry, local, digests, size)
        else:
            f = self._download(entry)
        self.stats.add(f)
        return f

    # -- remote ------------------------------------------------------------------
    def _paths(self, entry: Entry) -> tuple[Path, Path]:
        assert self.cache is not None
        key = hashlib.sha256(entry.key.encode("utf-8")).hexdigest()
        folder = self.cache / "objects" / key[:2]
        return folder / key, folder / (key + ".json")

    def _download(self, entry: Entry) -> Fetched:
        if self.cache is None:
            raise RuntimeError("a remote connector needs a cache folder")
        body, meta_path = self._paths(entry)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if (
            meta
            and meta.get("etag") == entry.etag
            and meta.get("size") == entry.size
            and entry.etag
            and body.exists()
            and body.stat().st_size == entry.size
        ):
            return Fetched(entry, body, meta["digests"], entry.size, from_cache=True)
        body.parent.mkdir(parents=True, exist_ok=True)
        part = body.with_name(body.name + f".part{threading.get_ident()}")
        hasher = MultiHasher(self.algorithms)
        try:
            with self.connector.open(entry) as src, open(part, "wb") as out:
                while chunk := src.read(CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
            if entry.size and hasher.size != entry.size:
                raise DocumentUnavailable(f"下载不完整：应为 {entry.size} 字节，实际收到 {hasher.size} 字节")
            digests = hasher.hexdigests()
            for alg, expected in entry.checksums.items():
                got = digests.get(alg.lower()) or _extra_digest(part, alg)
                if got and got.lower() != expected.lower():
                    raise DocumentUnavailable(f"下载内容与服务器校验值（{alg.upper()}）不符")
            os.replace(part, body)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        tmp_meta = meta_path.with_suffix(f".tmp{threading.get_ident()}")
        tmp_meta.write_text(json.dumps({"etag": entry.etag, "size": hasher.size, "digests": digests}), encoding="utf-8")
        os.replace(tmp_meta, meta_path)
        return Fetched(entry, body, digests, hasher.size, downloaded_bytes=hasher.size)


def _extra_digest(path: Path, alg: str) -> str | None:
    try:
        h = hashlib.new(alg.lower())
    except ValueError:
        return None
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
