"""The one small interface every document-management connector implements.

The pipeline talks to a DMS only through :class:`Connector`: list a tree, open a
document, put a file, make folders, tag. Adding a DMS means adding one module that
implements these methods; nothing in the pipeline changes (compare fsspec / rclone
backends).
"""

from __future__ import annotations

import posixpath
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class Entry:
    """One document as the source lists it.

    ``path`` is relative to the connector root, '/'-separated and NFC-normalised: it is
    what the catalogue records as the item's ``source``. ``ref`` is the connector's own
    locator (a native file system path, a server href) and never leaves the connector.
    """

    path: str
    size: int
    id: str = ""
    etag: str = ""
    mtime: float | None = None
    content_type: str = ""
    checksums: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    ref: str = ""
    #: Non-empty when the entry was listed but cannot be fetched (symlink out of the
    #: tree, special file, permission denied...). The pipeline turns it into an exception.
    problem: str = ""

    @property
    def key(self) -> str:
        """Stable identity for caching: the server id when there is one, else the path."""
        return self.id or self.path

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


class ConnectorError(Exception):
    """A failure talking to the DMS. ``str()`` is a user-facing Chinese message without secrets."""


class AuthenticationError(ConnectorError):
    """Credentials were refused (HTTP 401). Never retried."""


class QuotaExceededError(ConnectorError):
    """The destination has no room for the upload (HTTP 507)."""


class DocumentUnavailable(ConnectorError):
    """One document cannot be fetched (403/404/...); the run goes on and records an exception."""


class AlreadyExists(ConnectorError):
    """``put(..., overwrite=False)``: something is already stored under that name (it was
    kept as it was)."""


#: Temporary names a connector uploads under before moving into place, and how old one must
#: be before it counts as left over by an interrupted upload (and may be removed).
TEMP_PREFIXES = (".~dossier-", ".part-")
STALE_TEMP_SECONDS = 3600.0


class Connector(ABC):
    """A document tree in some DMS.

    Implementations must be safe to call :meth:`open` from several threads at once.
    """

    #: Location shown to users and recorded in the bundle; credentials already removed.
    display_url: str = ""

    #: True when :meth:`open` honours ``offset`` (HTTP Range): interrupted downloads resume.
    supports_range: bool = False

    @property
    def cache_namespace(self) -> str:
        """What makes :attr:`Entry.key` unique across sources; the fetch cache is keyed by
        it together with the entry's id and etag."""
        return self.display_url

    @abstractmethod
    def walk(self) -> Iterator[Entry]:
        """Yield every file below the root (folders are walked, not yielded).

        Order must be deterministic. Entries that cannot be fetched are still yielded,
        with ``problem`` set, so that nothing is silently dropped.
        """

    def walk_modified(self, start: str, end: str) -> Iterator[Entry]:
        """Only the documents last modified within ``start``..``end`` (ISO dates), for
        ``--only-term``. Servers with a search API answer it there (Nextcloud: DAV SEARCH);
        this default lists the tree and filters. Unreadable entries are still yielded."""
        import datetime as dt

        # Term dates are Chinese calendar days (UTC+8), whatever the machine's time zone.
        cst = dt.timezone(dt.timedelta(hours=8))
        lo = dt.datetime.combine(dt.date.fromisoformat(str(start)), dt.time(), cst).timestamp() if start else float("-inf")
        hi = (
            dt.datetime.combine(dt.date.fromisoformat(str(end)) + dt.timedelta(days=1), dt.time(), cst).timestamp()
            if end
            else float("inf")
        )
        for e in self.walk():
            if e.problem or e.mtime is None or lo <= e.mtime < hi:
                yield e

    @abstractmethod
    def open(self, entry: Entry, offset: int = 0) -> AbstractContextManager[BinaryIO]:
        """Open a document for streaming reads, from byte ``offset`` when the connector
        :attr:`supports_range` (otherwise ``offset`` must be 0)."""

    def local_path(self, entry: Entry) -> Path | None:
        """A readable local file holding the document's bytes, when the source is local.

        Lets the pipeline skip copying local documents into the cache.
        """
        return None

    @abstractmethod
    def put(self, path: str, source: Path, *, overwrite: bool = True) -> Entry:
        """Store the local file ``source`` at ``path`` (relative to the root), atomically:
        nobody may ever see a half-written file at ``path``.

        ``overwrite=False``: never replace what is there -- the final step itself refuses
        (WebDAV ``MOVE`` with ``Overwrite: F``, an exclusive link locally), so a file that
        appears between a check and the upload is not lost either; raises
        :class:`AlreadyExists`."""

    @abstractmethod
    def mkdirs(self, path: str) -> None:
        """Create the folder ``path`` and its parents (no error when it exists)."""

    def stat(self, path: str) -> Entry | None:
        """The entry at ``path``, or None when there is none."""
        return None

    def tag(self, path: str, tag: str) -> bool:
        """Attach a tag such as ``已归档`` to the file or folder at ``path``.

        Returns False when the DMS has no tags (the caller reports that, nothing fails).
        """
        return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def nfc(text: str) -> str:
    """Unicode NFC: entry paths are NFC (macOS hands out NFD names; servers and zips expect NFC)."""
    return unicodedata.normalize("NFC", text)


def join(*parts: str) -> str:
    """Join '/'-separated relative paths, dropping empty parts."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))
