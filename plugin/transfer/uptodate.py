"""Is the bundle at OUT already the bundle these inputs would make?

A re-run with nothing changed should cost a listing, not a rebuild: the archivist runs the
same command again, a job queue re-delivers a job, the Files menu is clicked twice. So each
successful run records, per output path, an *input fingerprint* -- a digest of everything
the bundle is made from -- together with the identity of the file it wrote (size, mtime,
inode) and its SHA-256. When the next run finds the same fingerprint and the file still as
written, it keeps the bundle ("已是最新") instead of writing it again.

The fingerprint covers: the source location and every listed document's path, id, etag,
size, mtime, tags and listing problem (any change on the server changes an etag); the
bundle metadata and options (leader, term, fonds, language, ``--only-term``, limits); the
inventory and the docx templates; the classifier's training data and the unit's confirmed
corrections; the program, bundle-format and extractor versions; and the settings read from
the environment (``SOURCE_DATE_EPOCH``, PDF renditions, OCR and LibreOffice availability).
A source that gives no etags is never considered unchanged.

The record lives in the cache (``<cache>/bundles/``), not beside the bundle nor inside it:
the bundle's bytes stay a function of the documents alone (the same documents copied to
another folder still give a byte-identical bundle), and the output folder holds only
bundles. The same place holds a lock per output path, so that two runs writing the same
bundle on one machine (a re-delivered job, a double click) take turns: the second one then
finds the bundle up to date. Under the lock, temporary ``.part`` files that a killed run
left next to the bundle are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

#: Bump when what a bundle depends on changes in a way the parts below do not capture.
FINGERPRINT_VERSION = "1"


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


def _templates_digest() -> str:
    from ..runtime.resources import templates_dir

    h = hashlib.sha256()
    folder = templates_dir()
    with contextlib.suppress(OSError):
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.suffix in (".docx", ".toml"):
                h.update(p.name.encode() + b"\0" + _file_digest(p).encode())
    return h.hexdigest()


def _model_digest(unit: str) -> str:
    from ..classify.model import MODEL_VERSION, training_file
    from ..classify.training import unit_dir

    parts = [MODEL_VERSION, _file_digest(training_file())]
    if unit:
        parts.append(_file_digest(unit_dir(unit) / "corrections.jsonl"))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _environment(output: dict[str, str]) -> dict[str, str]:
    from .extractcache import extractor_version

    return {
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", ""),
        "pdf": output.get("pdf", ""),
        "pdf_max_rows": output.get("pdf_max_rows", ""),
        "extractor": extractor_version(),
    }


def fingerprint(
    *,
    source: str,
    entries: list[Any],
    meta: Any,
    inventory: Any,
    mapping: Any,
    limits: Any,
    options: dict[str, Any],
    output: dict[str, str],
) -> str | None:
    """Digest of everything the bundle is made from; None when the source cannot vouch
    for unchanged documents (an entry without an etag).

    ``output`` describes how the bundle is written (format version, PDF renditions): the
    bundle stage supplies it (``bundle.output_settings()``), the guard does not look.
    """
    from ..version import __version__

    if any(not e.etag for e in entries if not e.problem):
        return None
    head = {
        "v": FINGERPRINT_VERSION,
        "program": __version__,
        "format": output.get("format", ""),
        "source": source,
        "meta": asdict(meta),
        "inventory": [repr(inventory), _file_digest(Path(inventory.source)) if inventory.source else ""],
        "templates": _templates_digest(),
        "mapping": sorted(getattr(mapping, "entries", {}).items()),
        "model": _model_digest(getattr(meta, "unit", "")),
        "limits": asdict(limits),
        "options": options,
        "env": _environment(output),
    }
    h = hashlib.sha256(json.dumps(head, ensure_ascii=False, sort_keys=True, default=str).encode())
    for e in entries:
        h.update("\0".join([e.path, e.id, e.etag, str(e.size), repr(e.mtime), e.problem, "\x1f".join(e.tags)])
                 .encode("utf-8", "surrogatepass") + b"\n")
    return h.hexdigest()


class OutputGuard:
    """The lock and the up-to-date record of one output path (a context manager)."""

    def __init__(self, out: Path, state_dir: Path) -> None:
        self.out = Path(os.path.abspath(out))
        key = hashlib.sha256(str(self.out).encode("utf-8", "surrogatepass")).hexdigest()[:40]
        self.state_dir = state_dir
        self.record_path = state_dir / f"{key}.json"
        self.lock_path = state_dir / f"{key}.lock"
        self._fd = -1

    def __enter__(self) -> OutputGuard:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            self._fd = -1  # no cache to lock in: run unguarded (and never reuse)
            return self
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._remove_stale_parts()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the lock
            self._fd = -1

    @property
    def locked(self) -> bool:
        return self._fd >= 0

    def _remove_stale_parts(self) -> None:
        """``.OUT.xxxx.part`` files are what a run writes before renaming into place; under
        the lock no other run here is writing one, so any left are from a killed run."""
        with contextlib.suppress(OSError):
            for p in self.out.parent.glob(f".{self.out.name}.*.part"):
                with contextlib.suppress(OSError):
                    p.unlink()

    def current(self, fp: str | None) -> dict[str, Any] | None:
        """The bundle's index when OUT is the bundle recorded for fingerprint ``fp``."""
        if not fp or not self.locked:
            return None
        try:
            rec = json.loads(self.record_path.read_text(encoding="utf-8"))
            st = self.out.stat()
        except (OSError, ValueError):
            return None
        if not isinstance(rec, dict) or rec.get("fingerprint") != fp or rec.get("out") != str(self.out):
            return None
        if (st.st_size, st.st_mtime_ns, st.st_ino) != (rec.get("size"), rec.get("mtime_ns"), rec.get("ino")):
            return None
        try:
            with zipfile.ZipFile(self.out) as zf:
                name = next(n for n in zf.namelist() if n.endswith("/data/index.json") and n.count("/") == 2)
                index = json.loads(zf.read(name))
        except (OSError, ValueError, StopIteration, zipfile.BadZipFile):
            return None
        return {"index": index, "sha256": rec.get("sha256", ""), "size": st.st_size}

    def record(self, fp: str | None, sha256: str) -> None:
        """Remember that OUT, as it is now, was made from inputs ``fp``."""
        if not self.locked:
            return
        if not fp:
            with contextlib.suppress(OSError):
                self.record_path.unlink()
            return
        try:
            st = self.out.stat()
            data = {"out": str(self.out), "fingerprint": fp, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                    "ino": st.st_ino, "sha256": sha256}
            tmp = self.record_path.with_name(f".{self.record_path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.record_path)
        except OSError:
            pass  # without a record the next run simply rebuilds
