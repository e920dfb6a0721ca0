"""A content-addressed cache of extraction results.

Reading a document (PDF text layer, OCR of a scan, a spreadsheet's first rows) is the
most expensive step of a run; the fetch cache already tells us, without reading a byte,
the SHA-256 of every document that did not change. Keyed by that digest, this cache lets
a re-run skip extraction entirely for unchanged documents.

Key = SHA-256 of (document SHA-256, file name, extractor version, limits). The file name
is part of the key because a reader uses it (the extension check, the title fallback, a
date in the name); a moved document keeps its name and still hits. The *extractor
version* is a digest of the extraction code itself (every module of
``handover_dossier.extract`` and the text helpers), of the versions of the parsing
libraries, and of the external tools found (Tesseract and its languages, LibreOffice):
changing any of them, or installing Tesseract, invalidates every entry at once, so a
cached result is always the result the current code would produce.

Entries hold the extracted metadata and only the leading text the classifier reads
(:data:`CACHED_TEXT_CHARS`), zlib-compressed JSON, one small file each, written
atomically (a temporary name renamed into place), so any number of processes may share
the cache. Results that depend on the moment rather than the document (a time limit
hit, a worker that crashed) are never cached. The cache is best effort: an entry that
cannot be read is a miss, and one that cannot be written (disk full) is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import threading
import zlib
from dataclasses import asdict, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..extract import Extracted, ExtractionError, Limits

#: Bump when the entry layout changes.
ENTRY_VERSION = 1

#: Extraction errors that depend on the moment (machine load), not on the document. Errors
#: marked ``transient`` (a worker that ran out of memory or crashed) are not cached either.
UNCACHED_KINDS = frozenset({"timeout"})

#: Libraries whose version changes what a reader returns.
_LIBRARIES = ("pypdfium2", "pypdf", "python-docx", "openpyxl", "lxml", "charset-normalizer", "opencc", "Pillow",
              "rapidocr-onnxruntime", "onnxruntime")


def _classifier_text_chars() -> int:
    from ..classify import model, rules

    return max(rules.LEAD_CHARS, model.BODY_CHARS * 2)


#: Leading characters of the text kept in an entry: what the classifier reads, with room
#: to spare. The catalogue never needs the text itself.
CACHED_TEXT_CHARS = max(4000, _classifier_text_chars() + 1000)


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Digest of the extraction code (every module of the extract package + helpers)."""
    from .. import extract
    from ..lang import textnorm

    h = hashlib.sha256()
    pkg = Path(extract.__file__).parent
    for p in [*sorted(pkg.glob("*.py")), Path(textnorm.__file__)]:
        h.update(p.name.encode() + b"\0")
        with contextlib.suppress(OSError):
            h.update(p.read_bytes())
    for lib in _LIBRARIES:
        try:
            h.update(f"{lib}={importlib.metadata.version(lib)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{lib}=-\0".encode())
    return h.hexdigest()


def _tools() -> str:
    """External tools the readers use, as found now (they depend on the environment)."""
    from ..extract.ocr import OcrUnavailable, ocr_setup
    from ..runtime.tools import soffice_path

    try:
        ocr = "+".join(ocr_setup())
    except OcrUnavailable as exc:
        ocr = f"-{exc.reason}"
    return f"ocr={ocr};soffice={soffice_path() or '-'}"


def extractor_version(limits: Limits | None = None) -> str:
    """What a cached result depends on besides the document: code, libraries, tools, limits."""
    limits = limits or Limits()
    h = hashlib.sha256()
    h.update(f"entry={ENTRY_VERSION};code={_code_digest()};{_tools()};".encode())
    h.update(json.dumps(asdict(limits), sort_keys=True).encode())
    return h.hexdigest()[:32]


def _encode(result: Extracted | ExtractionError) -> dict[str, Any]:
    if isinstance(result, ExtractionError):
        return {"ok": False, "reason": result.reason, "kind": result.kind}
    data = asdict(result)
    data["text"] = result.text[:CACHED_TEXT_CHARS]
    return {"ok": True, "extracted": data}


_FIELDS = {f.name for f in fields(Extracted)}


def _decode(data: dict[str, Any]) -> Extracted | ExtractionError | None:
    if data.get("ok") is False:
        return ExtractionError(str(data["reason"]), kind=str(data.get("kind", "unreadable")))
    raw = data.get("extracted")
    if not isinstance(raw, dict) or not set(raw) <= _FIELDS or "format" not in raw:
        return None
    return Extracted(**raw)


class ExtractCache:
    """Extraction results under ``root`` (``<root>/<2 hex>/<key>.z``), keyed by content.

    Thread- and process-safe: entries are immutable once written and appear atomically.
    """

    def __init__(self, root: str | Path, version: str) -> None:
        self.root = Path(root)
        self.version = version
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.write_errors = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # handed to worker processes
        return {"root": self.root, "version": self.version}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"], state["version"])  # type: ignore[misc]

    @classmethod
    def for_limits(cls, root: str | Path, limits: Limits) -> ExtractCache:
        return cls(root, extractor_version(limits))

    def key(self, sha256: str, name: str) -> str:
        return hashlib.sha256(f"{sha256}\0{name}\0{self.version}".encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.z"

    def get(self, sha256: str, name: str) -> Extracted | ExtractionError | None:
        """The cached result for this content under this name, or None."""
        if not sha256:
            return None
        try:
            raw = self._path(self.key(sha256, name)).read_bytes()
            data = json.loads(zlib.decompress(raw))
            result = _decode(data) if isinstance(data, dict) else None
        except (OSError, ValueError, zlib.error, TypeError):
            result = None
        with self._lock:
            if result is None:
                self.misses += 1
            else:
                self.hits += 1
        return result

    def put(self, sha256: str, name: str, result: Extracted | ExtractionError) -> bool:
        """Store ``result``; False when it is not cacheable or cannot be written."""
        if not sha256 or (
            isinstance(result, ExtractionError)
            and (result.kind in UNCACHED_KINDS or getattr(result, "transient", False))
        ):
            return False
        path = self._path(self.key(sha256, name))
        payload = zlib.compress(json.dumps(_encode(result), ensure_ascii=False).encode("utf-8"), 3)
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(payload)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            with self._lock:
                self.write_errors += 1
            return False
        with self._lock:
            self.writes += 1
        return True
