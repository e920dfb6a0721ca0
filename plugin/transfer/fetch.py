"""Fetch stage: the transfer engine that brings each listed document to a local file.

Local sources are read in place (no copy). Remote documents stream into a cache:

- keyed by the source's stable identity (``cache_namespace`` of the connector + the
  server id, or the path when the server has none) and validated by the etag: a re-run
  downloads only what changed, and :class:`FetchStats` says so ("1,200 份未变，3 份有更新");
- streamed to disk in small pieces, so memory stays flat whatever the file sizes;
- resumable: bytes land in ``<key>.part`` next to a note of the etag they belong to.
  A broken connection is resumed at once with a ``Range`` request (when the connector
  supports it) and an interrupted run (Ctrl-C, kill -9, network loss) continues from
  the same ``.part`` next time; only a complete, verified body is renamed into place;
- verified: the size always, the server's checksum (e.g. Nextcloud ``oc:checksums``)
  when it offers one. Digests (SHA-256, SM3 and the server's algorithm) are computed
  in the same single pass as the bytes stream by -- never a second read.

A failure that retrying cannot fix for this document (403, 404, wrong size) raises
:class:`DocumentUnavailable` and the document becomes an exception; a connection that
stays down raises a plain :class:`ConnectorError` and the run stops, to resume later,
rather than produce a bundle that silently lacks documents.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..connectors import Connector, ConnectorError, DocumentUnavailable, Entry
from ..hashing import MultiHasher, bag_algorithms, digest_file
from ..runtime.oserrors import os_error_reason

try:  # advisory locks keep two runs sharing one cache from writing the same .part
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

#: Read size while streaming; small enough that a stalled transfer leaves its bytes on disk.
STREAM_CHUNK = 256 << 10
#: Documents from this size on keep a note that lets an interrupted download resume.
RESUME_MIN = 256 << 10
#: A server may send a little more than it listed (the document grew in between; the
#: download then starts over once), never much more: beyond the listed size plus this
#: margin the body is cut off -- a hostile or broken server cannot fill the disk.
OVERSIZE_MARGIN = 1 << 20
#: Longest body accepted when the listing gave no size (the readers open 512 MB at most).
UNLISTED_MAX = 512 << 20


def max_body(listed: int) -> int:
    """Bytes of a download accepted for a document listed with ``listed`` bytes."""
    return listed + max(OVERSIZE_MARGIN, listed // 100) if listed else UNLISTED_MAX


@dataclass
class Fetched:
    entry: Entry
    local: Path
    digests: dict[str, str]
    size: int
    from_cache: bool = False
    downloaded_bytes: int = 0
    #: Bytes taken over from an earlier interrupted download of the same version.
    resumed_bytes: int = 0
    #: The cache held an older version of this document.
    updated: bool = False
    #: Came over the network in this run (possibly 0 bytes: empty, or fully resumed).
    transferred: bool = False
    #: A local document whose digests were known from an earlier run (same file, unchanged).
    digests_cached: bool = False
    #: Set by the pipeline when ``local`` is a processed copy of the document (a decrypted
    #: PDF): what was done, for the catalogue's notes.
    note: str = ""


@dataclass
class FetchStats:
    """What the fetch stage did. ``as_dict()`` goes into ``assemble --json``."""

    documents: int = 0
    downloaded: int = 0
    cached: int = 0
    local: int = 0
    bytes_downloaded: int = 0
    bytes_total: int = 0
    #: Bytes of the documents taken from the download cache / read in place (local source).
    bytes_cached: int = 0
    bytes_local: int = 0
    #: Local documents whose digests came from the digest cache (no re-hashing).
    digests_cached: int = 0
    #: Downloaded because the server's version changed since the cached one.
    updated: int = 0
    #: Downloaded for the first time.
    new: int = 0
    #: Downloads continued from an interrupted earlier attempt (.part file).
    resumed: int = 0
    bytes_resumed: int = 0
    #: Connection failures recovered by reconnecting (and resuming) during this run.
    retries: int = 0
    #: Requests the server asked us to repeat (429/503 ..., Retry-After) or that failed
    #: before an answer, retried by the connector's HTTP layer.
    server_retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, f: Fetched) -> None:
        with self._lock:
            self.documents += 1
            self.bytes_total += f.size
            if f.from_cache:
                self.cached += 1
                self.bytes_cached += f.size
            elif f.transferred:
                self.downloaded += 1
                self.bytes_downloaded += f.downloaded_bytes
                if f.updated:
                    self.updated += 1
                else:
                    self.new += 1
                if f.resumed_bytes:
                    self.resumed += 1
                    self.bytes_resumed += f.resumed_bytes
            else:
                self.local += 1
                self.bytes_local += f.size
                if f.digests_cached:
                    self.digests_cached += 1

    def retried(self, n: int = 1) -> None:
        with self._lock:
            self.retries += n

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def describe(self) -> str:
        return describe_fetch(self.as_dict())


def describe_fetch(stats: dict[str, int]) -> str:
    """One Chinese line for people: "1,200 份未变（使用缓存），3 份有更新，2 份新下载（共 1.2 MB）"."""
    parts: list[str] = []
    if stats.get("local"):
        parts.append(f"{stats['local']:,} 份本地文件直接读取")
    if stats.get("cached"):
        parts.append(f"{stats['cached']:,} 份未变（使用缓存）")
    if stats.get("updated"):
        parts.append(f"{stats['updated']:,} 份有更新")
    if stats.get("new"):
        parts.append(f"{stats['new']:,} 份新下载")
    if not parts:
        parts.append("没有获取任何文件")
    text = "，".join(parts)
    if stats.get("bytes_downloaded"):
        text += f"（下载 {_human(stats['bytes_downloaded'])}）"
    if stats.get("resumed"):
        text += f"；{stats['resumed']:,} 份从上次中断处续传"
    if stats.get("retries"):
        text += f"；网络中断后重连 {stats['retries']:,} 次"
    if stats.get("server_retries"):
        text += f"；服务器繁忙或连接失败后重试请求 {stats['server_retries']:,} 次"
    return text


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


class Fetcher:
    """Fetch documents from one connector (thread-safe: call :meth:`fetch` from a pool)."""

    def __init__(
        self,
        connector: Connector,
        cache: Path | None = None,
        *,
        attempts: int | None = None,
    ) -> None:
        self.connector = connector
        self.cache = cache
        self.algorithms = bag_algorithms()
        self.stats = FetchStats()
        policy = getattr(connector, "retry_policy", None)
        self._policy = policy
        self.attempts = attempts if attempts is not None else (policy.attempts if policy is not None else 6)
        self._namespace = str(getattr(connector, "cache_namespace", "") or connector.display_url)
        self._key_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop :meth:`fetch_all` from another thread: downloads in flight stop at their next
        read and keep their ``.part`` for the next run."""
        self._cancel.set()

    def fetch_all(self, entries: list[Entry], threads: int = 8) -> Iterator[tuple[Entry, Fetched | DocumentUnavailable]]:
        """Fetch ``entries`` with ``threads`` parallel downloads, yielding each as it is done:
        ``(entry, Fetched)``, or ``(entry, DocumentUnavailable)`` for a document that cannot
        be had. Any other :class:`ConnectorError` (or Ctrl-C) stops everything: downloads in
        flight stop at their next read and keep their ``.part`` for the next run."""
        self._cancel.clear()
        http = getattr(self.connector, "http", None)
        retries_before = getattr(http, "retries", 0)
        pool = cf.ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="dossier-fetch")
        futures = {pool.submit(self.fetch, e): e for e in entries}
        interrupted = False
        try:
            for fut in cf.as_completed(futures):
                e = futures[fut]
                try:
                    result: Fetched | DocumentUnavailable = fut.result()
                except DocumentUnavailable as exc:
                    result = exc
                yield e, result
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            self._cancel.set()
            pool.shutdown(wait=not interrupted, cancel_futures=True)
            self.stats.server_retries += getattr(http, "retries", 0) - retries_before

    def fetch(self, entry: Entry) -> Fetched:
        if self._cancel.is_set():
            raise ConnectorError("获取已中止")
        local = self.connector.local_path(entry)
        f = self._local(entry, local) if local is not None else self._download(entry)
        self.stats.add(f)
        return f

    # -- local sources -----------------------------------------------------------------
    def _local(self, entry: Entry, local: Path) -> Fetched:
        """A local document is read in place; its digests are computed once and kept in
        the cache under the file's identity (device, inode, size, mtime and ctime: any
        write changes the ctime), so a re-run does not hash an unchanged file again.
        (The assemble stage re-checks SHA-256 as it copies each file into the bundle.)"""
        try:
            st = os.stat(local)
        except OSError as exc:
            raise DocumentUnavailable(f"无法读取：{os_error_reason(exc)}") from exc
        note = None
        if self.cache is not None:
            ident = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
            key = hashlib.sha256(f"local\0{ident}".encode()).hexdigest()
            note = self.cache / "digests" / key[:2] / f"{key}.json"
            known = (_read_json(note) or {}).get("digests") or {}
            if all(alg in known for alg in self.algorithms):
                return Fetched(entry, local, {a: known[a] for a in self.algorithms}, st.st_size, digests_cached=True)
        try:
            digests, size = digest_file(local, self.algorithms)
        except OSError as exc:
            raise DocumentUnavailable(f"无法读取：{os_error_reason(exc)}") from exc
        if note is not None and size == st.st_size:
            with contextlib.suppress(OSError):  # a cache that cannot be written only costs a re-hash
                note.parent.mkdir(parents=True, exist_ok=True)
                _write_json(note, {"digests": digests, "size": size})
        return Fetched(entry, local, digests, size)

    # -- cache layout ----------------------------------------------------------------
    def cache_key(self, entry: Entry) -> str:
        return hashlib.sha256(f"{self._namespace}\0{entry.key}".encode()).hexdigest()

    def paths(self, entry: Entry) -> tuple[Path, Path, Path, Path]:
        """(body, meta, part, part-meta) for ``entry`` in the cache."""
        if self.cache is None:
            raise RuntimeError("a remote connector needs a cache folder")
        key = self.cache_key(entry)
        folder = self.cache / "objects" / key[:2]
        # The body keeps the document's extension: some readers go by it (openpyxl, LibreOffice).
        ext = os.path.splitext(entry.name)[1].lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,10}", ext):
            ext = ""
        return folder / f"{key}.body{ext}", folder / f"{key}.meta", folder / f"{key}.part", folder / f"{key}.partmeta"

    @contextlib.contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    # -- remote ----------------------------------------------------------------------
    def _cached(self, entry: Entry, body: Path, meta: dict | None) -> Fetched | None:
        if not (meta and entry.etag and meta.get("etag") == entry.etag and meta.get("size") == entry.size):
            return None
        try:
            st = body.stat()
        except OSError:
            return None
        # The recorded size and mtime catch a cache file changed or truncated behind our back.
        if st.st_size != entry.size or meta.get("mtime_ns") not in (None, st.st_mtime_ns):
            return None
        digests = meta.get("digests") or {}
        if not all(alg in digests for alg in self.algorithms):
            return None
        return Fetched(entry, body, {a: digests[a] for a in self.algorithms}, entry.size, from_cache=True)

    def _download(self, entry: Entry) -> Fetched:
        try:
            return self._download_cached(entry)
        except OSError as exc:
            if isinstance(exc, ConnectionError) or exc.errno is None:
                raise
            # The local disk, not the server: the run stops with a clear reason.
            raise ConnectorError(f"无法写入下载缓存：{os_error_reason(exc)}：{self.cache}") from None

    def _download_cached(self, entry: Entry) -> Fetched:
        body, meta_path, part, part_meta = self.paths(entry)
        with self._key_lock(self.cache_key(entry)):
            meta = _read_json(meta_path)
            hit = self._cached(entry, body, meta)
            if hit is not None:
                return hit
            body.parent.mkdir(parents=True, exist_ok=True)
            updated = bool(meta) and meta.get("etag") != entry.etag
            fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        # Another run is downloading this very document into the shared
                        # cache: download privately instead of waiting or colliding.
                        os.close(fd)
                        fd = -1
                        return self._download_private(entry, body, meta_path, updated)
                result = self._download_into(entry, fd, part, part_meta)
                self._commit(entry, part, body, meta_path, result[0], result[1])
                part_meta.unlink(missing_ok=True)
            finally:
                if fd >= 0:
                    os.close(fd)
        digests, size, downloaded, resumed = result
        return Fetched(entry, body, {a: digests[a] for a in self.algorithms}, size,
                       downloaded_bytes=downloaded, resumed_bytes=resumed, updated=updated, transferred=True)

    def _download_private(self, entry: Entry, body: Path, meta_path: Path, updated: bool) -> Fetched:
        tmp = body.with_name(f"{body.name}.part-{os.getpid()}-{threading.get_ident()}")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            digests, size, downloaded, _ = self._download_into(entry, fd, tmp, None)
            self._commit(entry, tmp, body, meta_path, digests, size)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        return Fetched(entry, body, {a: digests[a] for a in self.algorithms}, size,
                       downloaded_bytes=downloaded, updated=updated, transferred=True)

    def _commit(self, entry: Entry, part: Path, body: Path, meta_path: Path, digests: dict[str, str], size: int) -> None:
        os.replace(part, body)
        st = body.stat()
        meta = {
            "etag": entry.etag,
            "size": size,
            "mtime_ns": st.st_mtime_ns,
            "path": entry.path,
            "digests": {a: digests[a] for a in self.algorithms},
        }
        tmp_meta = meta_path.with_name(f"{meta_path.name}.tmp{os.getpid()}-{threading.get_ident()}")
        tmp_meta.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp_meta, meta_path)

    def _download_into(
        self, entry: Entry, fd: int, part: Path, part_meta: Path | None
    ) -> tuple[dict[str, str], int, int, int]:
        """Fill ``part`` (open as ``fd``) with the document; returns
        (digests, size, bytes downloaded now, bytes resumed from before)."""
        algorithms = [*self.algorithms, *(a for a in entry.checksums if a not in self.algorithms)]
        supports_range = bool(getattr(self.connector, "supports_range", False))
        state = _Part(fd, algorithms)
        if part_meta is not None:
            note = _read_json(part_meta)
            have = os.fstat(fd).st_size
            if (
                supports_range
                and note
                and entry.etag
                and note.get("etag") == entry.etag
                and note.get("size") == entry.size
                and 0 < have <= entry.size
            ):
                state.adopt(have)
            else:
                state.reset()
                if entry.size >= RESUME_MIN:  # small documents are simply fetched again
                    _write_json(part_meta, {"etag": entry.etag, "size": entry.size, "path": entry.path})
        else:
            state.reset()
        resumed = state.size
        failures = 0
        restarted = False
        while not (entry.size and state.size == entry.size):
            try:
                from_zero = self._stream(entry, state)
                if from_zero:
                    resumed = 0
                if entry.size and state.size != entry.size and not restarted:
                    # A body of the wrong length that ended cleanly: the document changed
                    # between listing and download, or something cut it. Once from scratch.
                    restarted = True
                    state.reset()
                    resumed = 0
                    continue
                break
            except ConnectorError as exc:
                if not getattr(exc, "retryable", False):
                    raise
                failures += 1
                self.stats.retried()
                if failures >= self.attempts:
                    raise ConnectorError(
                        f"{exc}；已重试 {failures - 1} 次仍失败，已下载的部分已保存，重新运行将从中断处继续"
                    ) from None
                if not supports_range:
                    state.reset()
                    resumed = 0
                self._sleep(failures - 1)
        if entry.size and state.size != entry.size:
            raise DocumentUnavailable(f"下载不完整：应为 {entry.size} 字节，实际收到 {state.size} 字节")
        digests = state.hasher.hexdigests()
        for alg, expected in entry.checksums.items():
            got_digest = digests.get(alg)
            if got_digest and got_digest.lower() != expected.lower():
                state.reset()
                if part_meta is not None:
                    part_meta.unlink(missing_ok=True)
                raise DocumentUnavailable(f"下载内容与服务器提供的校验值（{alg.upper()}）不符")
        # No fsync per file: this is a cache of bytes the server still has. A body lost to
        # a power failure shows up as a wrong size here, or as a digest mismatch when the
        # bundle is written (assemble re-hashes every member) -- never as a silent error.
        return digests, state.size, state.received, resumed

    def _stream(self, entry: Entry, state: _Part) -> bool:
        """One GET appending to ``state`` from its current size; returns whether the server
        started over from byte 0 (it ignored the range)."""
        offset = state.size
        ctx = self.connector.open(entry, offset=offset) if offset else self.connector.open(entry)  # type: ignore[call-arg]
        from_zero = False
        with ctx as src:
            if offset and getattr(src, "start", 0) != offset:
                state.reset()  # the server ignored the range and sends everything
                from_zero = True
            read = getattr(src, "read1", src.read)
            limit = max_body(entry.size)
            while chunk := read(STREAM_CHUNK):
                if state.size + len(chunk) > limit:
                    state.reset()
                    listed = f"列出的大小为 {entry.size} 字节" if entry.size else "未列出大小"
                    raise DocumentUnavailable(f"服务器发送的内容远超文件大小（{listed}），已中止下载，未收入")
                state.append(chunk)
                if self._cancel.is_set():
                    raise ConnectorError("获取已中止")
        return from_zero

    def _sleep(self, attempt: int) -> None:
        if self._policy is not None:
            self._policy.sleep(self._policy.delay(attempt))
        else:
            time.sleep(min(30.0, 0.5 * 2**attempt))


class _Part:
    """The ``.part`` file being filled, with the digests of what it holds so far."""

    def __init__(self, fd: int, algorithms: list[str]) -> None:
        self.fd = fd
        self.algorithms = algorithms
        self.hasher = MultiHasher(algorithms)
        #: Bytes that came over the network into this part, including any discarded.
        self.received = 0

    @property
    def size(self) -> int:
        return self.hasher.size

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        self.hasher = MultiHasher(self.algorithms)

    def adopt(self, length: int) -> None:
        """Take over ``length`` bytes already on disk from an interrupted run."""
        self.hasher = MultiHasher(self.algorithms)
        os.lseek(self.fd, 0, os.SEEK_SET)
        left = length
        while left > 0:
            chunk = os.read(self.fd, min(1 << 20, left))
            if not chunk:
                break
            self.hasher.update(chunk)
            left -= len(chunk)
        if self.hasher.size != length:
            self.reset()
            return
        os.ftruncate(self.fd, length)
        os.lseek(self.fd, length, os.SEEK_SET)

    def append(self, data: bytes) -> None:
        _write_all(self.fd, data)
        self.hasher.update(data)
        self.received += len(data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def walk_source(connector: Connector, term: tuple[str, str] | None = None) -> Iterator[Entry]:
    """The entries to fetch: every file, or (``--only-term``) only those last modified
    within ``term`` = (start, end) ISO dates, China time.

    Connectors that can select on the server (Nextcloud: DAV SEARCH) do so in their
    ``walk_modified``; the interface's default lists the tree and filters by ``Entry.mtime``.
    Entries that cannot be read are kept, so that they still become exceptions.
    """
    if term is None:
        yield from connector.walk()
    else:
        yield from connector.walk_modified(*term)
