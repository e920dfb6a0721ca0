"""Local folder connector: the embedded default and the simplest reference connector."""

from __future__ import annotations

import os
import shutil
import stat as statmod
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

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


class LocalConnector(Connector):
    """A folder on a local or mounted file system.

    Symbolic links are never followed out of the root: a link that resolves inside the
    tree is read like a file, one that leaves it (or a linked folder) is listed with a
    ``problem`` so that it appears in the exceptions list.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()
        self.display_url = str(self.root)

    # -- reading -----------------------------------------------------------------
    def walk(self) -> Iterator[Entry]:
        if not self.root.is_dir():
            raise ConnectorError(f"来源目录不存在或不是文件夹：{self.root}")
        real_root = self.root.resolve()
        yield from self._walk_dir(self.root, "", real_root)

    def _walk_dir(self, folder: Path, rel: str, real_root: Path) -> Iterator[Entry]:
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda e: nfc(e.name))
        except OSError as exc:
            yield Entry(path=rel or ".", size=0, ref=str(folder), problem=f"无法读取文件夹：{exc.strerror}")
            return
        for child in children:
            name = nfc(child.name)
            if "\ufffd" in name or any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
                name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            path = join(rel, name)
            native = Path(child.path)
            try:
                if child.is_symlink():
                    yield from self._symlink_entry(native, path, real_root)
                elif child.is_dir(follow_symlinks=False):
                    yield from self._walk_dir(native, path, real_root)
                elif child.is_file(follow_symlinks=False):
                    st = child.stat(follow_symlinks=False)
                    yield self._entry(path, native, st)
                else:
                    yield Entry(path=path, size=0, ref=str(native), problem="不是普通文件（设备、管道或套接字），未读取")
            except OSError as exc:
                yield Entry(path=path, size=0, ref=str(native), problem=f"无法读取：{exc.strerror}")

    def _symlink_entry(self, native: Path, path: str, real_root: Path) -> Iterator[Entry]:
        try:
            target = native.resolve(strict=True)
        except (OSError, RuntimeError):
            yield Entry(path=path, size=0, ref=str(native), problem="符号链接指向不存在的目标，未跟随")
            return
        if not target.is_relative_to(real_root):
            yield Entry(path=path, size=0, ref=str(native), problem="符号链接指向来源目录之外，出于安全未跟随")
        elif target.is_dir():
            yield Entry(path=path, size=0, ref=str(native), problem="符号链接指向文件夹，为避免重复和循环未跟随")
        elif target.is_file():
            yield self._entry(path, target, target.stat())
        else:
            yield Entry(path=path, size=0, ref=str(native), problem="符号链接指向的不是普通文件，未读取")

    @staticmethod
    def _entry(path: str, native: Path, st: os.stat_result) -> Entry:
        return Entry(
            path=path,
            size=st.st_size,
            id=f"{st.st_dev}:{st.st_ino}",
            etag=f"{st.st_mtime_ns:x}-{st.st_size:x}",
            mtime=st.st_mtime,
            ref=str(native),
        )

    supports_range = True

    def open(self, entry: Entry, offset: int = 0) -> BinaryIO:
        try:
            f = open(entry.ref or self.root / entry.path, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise DocumentUnavailable(f"无法打开 {entry.path}：{exc.strerror}") from exc
        if offset:
            f.seek(offset)
        return f

    def local_path(self, entry: Entry) -> Path | None:
        return Path(entry.ref) if entry.ref else self.root / entry.path

    # -- writing -----------------------------------------------------------------
    def mkdirs(self, path: str) -> None:
        (self.root / path).mkdir(parents=True, exist_ok=True)

    def put(self, path: str, source: Path, *, overwrite: bool = True, mode: int = 0o600) -> Entry:
        """Store ``source`` at ``path`` atomically, readable by the owner only (``mode``: a
        bundle or a draft holds a leader's records)."""
        dest = self.root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(dest.parent)
        fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=dest.suffix, dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, mode)
            if overwrite:
                os.replace(tmp, dest)
            else:
                _link_exclusive(Path(tmp), dest)
        except FileExistsError:
            raise AlreadyExists(f"目标位置已有同名文件，未覆盖：{dest.name}") from None
        finally:
            Path(tmp).unlink(missing_ok=True)
        return self._entry(path, dest, dest.stat())

    def stat(self, path: str) -> Entry | None:
        p = self.root / path
        try:
            st = p.stat()
        except OSError:
            return None
        if statmod.S_ISDIR(st.st_mode):
            return Entry(path=path, size=0, id=f"{st.st_dev}:{st.st_ino}", ref=str(p), content_type="httpd/unix-directory")
        return self._entry(path, p, st)


def _link_exclusive(tmp: Path, dest: Path) -> None:
    """Make ``tmp`` appear as ``dest`` only if ``dest`` does not exist, in one step
    (``link()`` fails with FileExistsError instead of replacing)."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (some network file systems): reserve the name exclusively,
        # then move the finished file onto the reservation.
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.replace(tmp, dest)


def remove_stale_temps(folder: Path, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove upload leftovers (``.part-*``, ``.~dossier-*.tmp``) older than ``older_than``
    seconds from ``folder``; returns how many. Younger ones may be another upload in flight."""
    import time

    removed = 0
    try:
        with os.scandir(folder) as it:
            for e in it:
                if not e.name.startswith(TEMP_PREFIXES) or not e.is_file(follow_symlinks=False):
                    continue
                try:
                    if time.time() - e.stat(follow_symlinks=False).st_mtime > older_than:
                        os.unlink(e.path)
                        removed += 1
                except OSError:
                    continue
    except OSError:
        return removed
    return removed

