"""The pipeline: fetch -> extract -> classify -> assemble (-> file).

It only sees a :class:`~handover_dossier.connectors.Connector`, never a concrete DMS. Every
listed document ends up either as an item or as an exception with a reason; only a
failure to list the source or to write the bundle stops a run.

The stages overlap: documents stream from the fetch threads straight into the worker
processes as they arrive (:class:`~.workers.ReadPool`), which read them -- or take the
result from the extraction cache (:mod:`.extractcache`) -- and classify them, so that
transfer, extraction and classification keep every core busy at once. The main process
keeps only small metadata records per document (never bodies or texts), so memory does
not grow with the size of the corpus. A run whose inputs did not change since the bundle
at OUT was written keeps that bundle (:mod:`.uptodate`, "已是最新").
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bundle import output_settings
from .bundle.assemble import (
    BundleError,
    BundleInfo,
    BundleMeta,
    ExceptionRow,
    Item,
    created_time,
    write_bundle,
)
from .classify import Classification, Classifier, ClassifyInput, Mapping
from .classify.overrides import MAPPING_NAME
from .classify.year import document_year as classify_year
from .connectors import Connector, ConnectorError, DocumentUnavailable, Entry, open_connector
from .extract import Extracted, ExtractionError, Limits, screen_name
from .extract.corrections import FIELDS_NAME, CorrectionError, FieldCorrections, corrections_from_tags
from .extract.corrections import apply as apply_corrections
from .extract.passwords import PASSWORDS_NAME, PasswordFileError, Passwords
from .extract.pdf import decrypt_pdf
from .hashing import digest_file
from .inventory import Inventory, default_inventory
from .runtime.oserrors import os_error_reason
from .runtime.progress import Progress
from .runtime.resources import cache_dir
from .transfer.extractcache import ExtractCache
from .transfer.fetch import Fetched, Fetcher, FetchStats, walk_source
from .transfer.uptodate import OutputGuard, fingerprint
from .transfer.workers import Job, Outcome, ReadPool, Task, extract_all

#: Exceptions that are not documents at all (lock files, listing problems): no category.
UNCLASSIFIED_KINDS = ("not-a-document", "listing")


class AssembleError(RuntimeError):
    """No bundle could be made; ``str()`` is a one-line Chinese reason."""


@dataclass
class AssembleResult:
    bundle: BundleInfo
    #: Seconds per stage. ``fetch`` and ``extract`` are wall-clock spans that overlap (the
    #: stages stream into each other); ``classify`` is the time spent classifying, summed
    #: over the workers; ``list`` and ``assemble`` run alone; ``total`` is the whole run.
    stage_seconds: dict[str, float]
    fetch: dict[str, int]
    index: dict[str, Any] = field(repr=False, default_factory=dict)
    #: What the extract stage did: documents read, taken from the extraction cache, failed;
    #: ``busy_seconds`` summed over the workers.
    extract: dict[str, Any] = field(default_factory=dict)
    #: True when the bundle at OUT was already up to date and was kept as it was.
    up_to_date: bool = False

    @property
    def summary(self) -> dict[str, Any]:
        return self.index["summary"]

    def as_json(self) -> dict[str, Any]:
        idx = self.index
        return {
            "bundle": str(self.bundle.path),
            "sha256": self.bundle.sha256,
            "size": self.bundle.size,
            "up_to_date": self.up_to_date,
            "archival_code": idx["bundle"]["archival_code"],
            "summary": idx["summary"],
            "missing": idx["missing"],
            "unreadable": (idx.get("gaps") or {}).get("unreadable", {}),
            "generated": (idx.get("gaps") or {}).get("generated", []),
            "findings": (idx.get("gaps") or {}).get("findings", []),
            "renditions": idx.get("renditions", {}),
            "exceptions": idx["exceptions"],
            "needs_review": [
                {"seq": it["seq"], "source": it["source"], "code": it["code"], "reason": it["reason"]}
                for it in idx["items"]
                if it["needs_review"]
            ],
            "stage_seconds": self.stage_seconds,
            "fetch": self.fetch,
            "extract": self.extract,
        }


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


#: Below this many documents a run reads them in one (capped) worker process: starting
#: more (and handing each the classifier) costs more than it saves.
POOL_MIN_DOCUMENTS = 16


def document_year(ex: Extracted, source: str) -> str:
    """The year a document belongs to (see :mod:`.classify.year`: the title's year wins)."""
    return classify_year(ex.title, ex.date, source)


def assemble(
    source: str | Connector,
    out: str | Path,
    *,
    meta: BundleMeta | None = None,
    inventory: Inventory | None = None,
    mapping: Mapping | None = None,
    classifier: Classifier | None = None,
    workers: int | None = None,
    fetch_threads: int = 8,
    limits: Limits | None = None,
    progress: Progress | None = None,
    cache: Path | None = None,
    only_term: bool = False,
    reuse: bool = True,
    extract_cache: bool = True,
    passwords: Passwords | None = None,
    corrections: FieldCorrections | None = None,
) -> AssembleResult:
    """Build a bundle from ``source`` (folder path, URL or connector) into ``out``.

    ``only_term``: take only the documents last modified within the term
    (``meta.term_start`` .. ``meta.term_end``; Nextcloud selects them with DAV SEARCH).
    ``cache``: the download cache folder (default ``<cache>/fetch``). ``reuse``: keep the
    bundle at ``out`` when it was made from the same inputs (see :mod:`.uptodate`).
    ``extract_cache``: take unchanged documents' extraction results from the cache.
    ``passwords``: passwords of encrypted PDFs (default: ``dossier-passwords.csv`` at the
    source root, see :mod:`.extract.passwords`); such documents are kept decrypted.
    ``corrections``: the archivist's corrections of catalogue fields, laid over those of
    ``dossier-fields.csv`` at the source root (see :mod:`.extract.corrections`).
    """
    meta = meta or BundleMeta()
    inventory = inventory or default_inventory()
    limits = limits or Limits()
    progress = progress or Progress()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    created = created_time()

    try:
        connector = source if isinstance(source, Connector) else open_connector(str(source))
    except ConnectorError as exc:
        raise AssembleError(str(exc)) from exc
    term = (meta.term_start, meta.term_end) if only_term else None
    if term is not None and not all(term):
        raise AssembleError("按任期筛选（--only-term）需要同时给出任期开始和结束日期")
    progress.start("list")
    try:
        listed: list[Entry] = list(walk_source(connector, term))
    except ConnectorError as exc:
        raise AssembleError(str(exc)) from exc
    progress.finish("list")
    timings["list"] = time.perf_counter() - started
    explicit_mapping = mapping is not None
    if mapping is None:
        mapping = _sidecar_mapping(connector, listed, inventory)
    explicit_passwords = passwords is not None
    if passwords is None:
        passwords = _sidecar_passwords(connector, listed)
    sidecar_fields = _sidecar_fields(connector, listed)
    fixes = sidecar_fields.merged(corrections) if corrections is not None else sidecar_fields
    entries = [e for e in listed if e.path not in (MAPPING_NAME, PASSWORDS_NAME, FIELDS_NAME)]
    if not entries:
        within = f"（按修改时间筛选任期 {term[0]} 至 {term[1]} 内的文件后）" if term else ""
        raise AssembleError(f"来源中没有任何文件{within}：{connector.display_url}")

    out = Path(out)
    with OutputGuard(out, cache_dir() / "bundles") as guard:
        fp = None
        if reuse and classifier is None:
            fp = fingerprint(source=connector.display_url, entries=listed, meta=meta, inventory=inventory,
                             mapping=mapping if explicit_mapping else None, limits=limits,
                             options={"only_term": only_term, **_passwords_option(passwords, explicit_passwords),
                                      "corrections": corrections.entries if corrections is not None else {}},
                             output=output_settings())
            kept = guard.current(fp)
            if kept is not None:
                return _kept(out, kept, entries, timings, started, progress)
        with tempfile.TemporaryDirectory(prefix="dossier-decrypted-") as workdir:
            result = _run(connector, entries, out, meta=meta, inventory=inventory, mapping=mapping,
                          classifier=classifier, workers=workers, fetch_threads=fetch_threads, limits=limits,
                          progress=progress, cache=cache, extract_cache=extract_cache, created=created,
                          timings=timings, passwords=passwords, workdir=Path(workdir), corrections=fixes)
        guard.record(fp, result.bundle.sha256)
    timings["total"] = time.perf_counter() - started
    result.stage_seconds = {k: round(v, 3) for k, v in timings.items()}
    return result


def _kept(out: Path, kept: dict[str, Any], entries: list[Entry], timings: dict[str, float], started: float,
          progress: Progress) -> AssembleResult:
    """The result of a run that found the bundle up to date."""
    for stage in ("fetch", "extract", "classify", "assemble"):
        progress.start(stage, len(entries) if stage != "assemble" else 1)
        progress.advance(stage, len(entries) if stage != "assemble" else 1)
        progress.finish(stage)
    timings["total"] = time.perf_counter() - started
    info = BundleInfo(out, kept["index"], kept["sha256"], kept["size"])
    stats = {**FetchStats().as_dict(), "unchanged": len(entries)}
    return AssembleResult(info, {k: round(v, 3) for k, v in timings.items()}, stats, kept["index"],
                          {"documents": 0}, up_to_date=True)


@dataclass
class _Record:
    """One fetched document on its way to the catalogue (small: no body, no text)."""

    fetched: Fetched
    item: Item | None = None
    decision: Classification | None = None
    ex_needs_review: bool = False


_DONE = object()


def _run(connector: Connector, entries: list[Entry], out: Path, *, meta: BundleMeta, inventory: Inventory,
         mapping: Mapping, classifier: Classifier | None, workers: int | None, fetch_threads: int, limits: Limits,
         progress: Progress, cache: Path | None, extract_cache: bool, created, timings: dict[str, float],
         passwords: Passwords | None = None, workdir: Path | None = None,
         corrections: FieldCorrections | None = None) -> AssembleResult:
    exceptions: list[ExceptionRow] = []
    to_fetch: list[Entry] = []
    for e in entries:
        reason = e.problem or screen_name(e.name)
        if reason:
            exceptions.append(ExceptionRow(e.path, reason, kind="listing" if e.problem else "not-a-document", size=e.size))
        else:
            to_fetch.append(e)
    n = len(to_fetch)

    classifier = classifier or Classifier(inventory, mapping, unit=meta.unit)
    getattr(classifier, "model", None)  # train or load once, before the workers get a copy
    n_workers = workers if workers is not None else (default_workers() if n >= POOL_MIN_DOCUMENTS else 1)
    xcache = ExtractCache.for_limits(cache_dir() / "extract", limits) if extract_cache else None
    pool = ReadPool(limits, n_workers, classifier=classifier, cache=xcache)
    if not _picklable(classifier):
        pool.state.classifier = None  # a caller's classifier that cannot travel: classify here

    fetcher = Fetcher(connector, cache if cache is not None else cache_dir() / "fetch")
    events: queue.SimpleQueue = queue.SimpleQueue()

    def fetch_in_background() -> None:
        try:
            for pair in fetcher.fetch_all(to_fetch, fetch_threads):
                events.put(pair)
        except BaseException as exc:  # handed to the main thread, which stops the run
            events.put(exc)
        finally:
            events.put(_DONE)

    records: list[_Record] = []
    parked: dict[tuple[str, str], list[int]] = {}  # (sha256, name) being read -> copies waiting
    xstats: dict[str, Any] = {"documents": 0, "read": 0, "from_cache": 0, "failed": 0, "busy_seconds": 0.0}
    by_format: dict[str, dict[str, Any]] = {}
    classify_seconds = 0.0
    t_stream = time.perf_counter()
    t_fetched = t_read = t_stream

    for stage in ("fetch", "extract", "classify"):
        progress.start(stage, n)
    thread = threading.Thread(target=fetch_in_background, name="dossier-fetch-feed", daemon=True)
    thread.start()

    def submit(idx: int) -> None:
        f = records[idx].fetched
        pool.submit(Task(idx, str(f.local), f.entry.name, f.digests["sha256"],
                         ClassifyInput(source=f.entry.path, tags=f.entry.tags)))

    def finish(idx: int, outcome: Outcome) -> None:
        nonlocal classify_seconds
        rec = records[idx]
        f = rec.fetched
        result = outcome.result
        xstats["documents"] += 1
        xstats["from_cache" if outcome.from_cache else "read"] += 1
        xstats["busy_seconds"] += outcome.extract_seconds
        if not outcome.from_cache:  # where the reading time goes, by format (OCR apart)
            kind = "error" if isinstance(result, ExtractionError) else result.format
            if isinstance(result, Extracted) and any("文字识别" in note for note in result.notes):
                kind += "+ocr"
            slot = by_format.setdefault(kind, {"documents": 0, "seconds": 0.0})
            slot["documents"] += 1
            slot["seconds"] += outcome.extract_seconds
        classify_seconds += outcome.classify_seconds
        progress.advance("extract")
        if isinstance(result, ExtractionError):
            xstats["failed"] += 1
            exceptions.append(ExceptionRow(f.entry.path, result.reason, kind=result.kind, size=f.size,
                                           sha256=f.digests["sha256"]))
        else:
            decision = outcome.decision
            if decision is None:  # the classifier could not go to the workers
                t = time.perf_counter()
                decision = classifier.classify(ClassifyInput(
                    source=f.entry.path, title=result.classifier_title()[0], text=result.text, tags=f.entry.tags,
                    title_composed=result.classifier_title()[1],
                    text_missing=result.needs_review and not result.text.strip()))
                classify_seconds += time.perf_counter() - t
            rec.decision = decision
            rec.ex_needs_review = result.needs_review
            rec.item = _item(f, result, decision, meta, corrections)
        progress.advance("classify")

    fetching = True
    try:
        while fetching or pool.pending:
            block = fetching and not pool.pending
            while True:
                try:
                    ev = events.get(timeout=0.5) if block else events.get_nowait()
                except queue.Empty:
                    break
                block = False
                if ev is _DONE:
                    fetching = False
                    t_fetched = time.perf_counter()
                    break
                if isinstance(ev, BaseException):
                    raise ev
                e, got = ev
                progress.advance("fetch")
                if isinstance(got, DocumentUnavailable):
                    exceptions.append(ExceptionRow(e.path, f"无法获取：{got}", kind="unavailable", size=e.size))
                    progress.advance("extract")
                    progress.advance("classify")
                    continue
                if passwords and workdir is not None:
                    got = _decrypted(got, passwords, workdir, len(records))
                    if isinstance(got, ExceptionRow):
                        exceptions.append(got)
                        progress.advance("extract")
                        progress.advance("classify")
                        continue
                records.append(_Record(got))
                idx = len(records) - 1
                key = (got.digests["sha256"], got.entry.name)
                if key in parked:  # the same content under the same name is being read
                    parked[key].append(idx)
                else:
                    parked[key] = []
                    submit(idx)
            for task, outcome in pool.drain(timeout=0.05 if fetching else 1.0):
                finish(task.key, outcome)
                t_read = time.perf_counter()
                # Copies that waited for this read go now: the extraction cache has the
                # result, so they are only classified (each under its own path).
                for idx in parked.pop((task.sha256, task.name), ()):
                    submit(idx)
    except ConnectorError as exc:
        raise AssembleError(str(exc)) from exc
    except OSError as exc:
        raise AssembleError(f"读取文档时出错：{os_error_reason(exc)}") from exc
    finally:
        fetcher.cancel()
        pool.close()
        thread.join(timeout=30)
    for stage in ("fetch", "extract", "classify"):
        progress.finish(stage)
    timings["fetch"] = t_fetched - t_stream
    timings["extract"] = max(t_read, t_fetched) - t_stream
    timings["classify"] = classify_seconds
    xstats["busy_seconds"] = round(xstats["busy_seconds"], 3)
    xstats["by_format"] = {k: {"documents": v["documents"], "seconds": round(v["seconds"], 3)}
                           for k, v in sorted(by_format.items())}
    xstats["workers"] = pool.workers

    items = _follow_first_copies(records, meta)
    # Documents that exist but could not be read still tell which category they belong to
    # (by their name): the gap report says 已有但无法读取 instead of 缺少.
    by_name = getattr(classifier, "category_by_name", None)
    for ex in exceptions:
        if by_name is not None and ex.kind not in UNCLASSIFIED_KINDS and not ex.code:
            ex.code = by_name(ClassifyInput(source=ex.source))

    # -- assemble ------------------------------------------------------------------
    t = time.perf_counter()
    exceptions.sort(key=lambda ex: ex.source)
    try:
        bundle = write_bundle(
            Path(out), items, exceptions, meta, inventory, source=connector.display_url, created=created,
            progress=progress,
        )
    except OSError as exc:
        raise AssembleError(f"写入档案包失败：{os_error_reason(exc)}（{Path(out).parent}）；未留下不完整的档案包") from exc
    except BundleError as exc:
        raise AssembleError(str(exc)) from exc
    progress.finish("assemble")
    timings["assemble"] = time.perf_counter() - t
    return AssembleResult(bundle, timings, fetcher.stats.as_dict(), bundle.index, xstats)


def _follow_first_copies(records: list[_Record], meta: BundleMeta) -> list[Item]:
    """Identical content is one document: copies follow the category of the copy that comes
    first by source path, unless the archivist tagged or mapped a copy explicitly."""
    groups: dict[str, list[_Record]] = {}
    for rec in records:
        if rec.item is not None:
            groups.setdefault(rec.item.sha256, []).append(rec)
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda r: r.fetched.entry.path)
        first = group[0].decision
        for rec in group[1:]:
            if rec.decision is not None and first is not None and rec.decision.method not in ("tag", "mapping"):
                _apply(rec.item, first, rec.ex_needs_review)
    return [rec.item for rec in records if rec.item is not None]


def _apply(item: Item, decision: Classification, ex_needs_review: bool) -> None:
    item.code = decision.code
    item.category = decision.category
    item.confidence = decision.confidence
    item.method = decision.method
    item.needs_review, item.reason = _review_and_reason(decision, ex_needs_review, item.notes)


def _review_and_reason(decision: Classification, ex_needs_review: bool, notes: list[str]) -> tuple[bool, str]:
    override = decision.method in ("tag", "mapping")
    needs_review = decision.needs_review or (ex_needs_review and not override)
    reason = decision.reason
    if ex_needs_review and notes and not override:
        reason = "；".join([reason, *notes[:1]])
    return needs_review, reason


def _item(f: Fetched, ex: Extracted, decision: Classification, meta: BundleMeta,
          corrections: FieldCorrections | None = None) -> Item:
    needs_review, reason = _review_and_reason(decision, ex.needs_review, ex.notes)
    item = Item(
        code=decision.code,
        category=decision.category,
        title=ex.title,
        title_composed=ex.title_composed,
        source=f.entry.path,
        size=f.size,
        digests=f.digests,
        local=f.local,
        format=ex.format,
        date=ex.date,
        year=document_year(ex, f.entry.path),
        doc_number=ex.doc_number,
        responsible=ex.responsible,
        pages=ex.pages,
        secrecy=ex.secrecy,
        confidence=decision.confidence,
        needs_review=needs_review,
        reason=reason,
        method=decision.method,
        notes=[*([f.note] if f.note else []), *ex.notes],
        fields=dict(ex.fields),
    )
    return _corrected(item, f.entry.tags, corrections)


def _corrected(item: Item, tags: tuple[str, ...], corrections: FieldCorrections | None) -> Item:
    """The archivist's field corrections laid over what was read: the sidecar's (or the web
    form's), then the DMS tags' (a tag on the file itself wins)."""
    fields = item.fields
    if corrections is not None and (fixes := corrections.lookup(item.source)):
        fields = apply_corrections(fields, fixes, corrections.origin or FIELDS_NAME)
    for key, (value, tag) in corrections_from_tags(tags).items():
        fields = apply_corrections(fields, {key: value}, f"文件标签“{tag}”")
    if fields is item.fields:
        return item
    item.fields = fields
    for key in ("title", "responsible", "date", "doc_number", "secrecy"):
        if (fields.get(key) or {}).get("part") == "人工更正":
            setattr(item, key, fields[key]["value"])
            if key == "title":
                item.title_composed = False
    pages = (fields.get("pages") or {})
    if pages.get("part") == "人工更正":
        item.pages = int(pages["value"]) if pages.get("value") else None
    if (fields.get("date") or {}).get("part") == "人工更正" and item.date:
        item.year = item.date[:4]
    return item


def _picklable(obj: object) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


def _sidecar_mapping(connector: Connector, entries: list[Entry], inventory: Inventory) -> Mapping:
    for e in entries:
        if e.path == MAPPING_NAME:
            with connector.open(e) as f:
                data = f.read(1 << 20).decode("utf-8-sig", errors="replace")
            try:
                return Mapping.parse(data, inventory, origin=e.path)
            except ValueError as exc:
                raise AssembleError(str(exc)) from exc
    return Mapping()


def _sidecar_fields(connector: Connector, entries: list[Entry]) -> FieldCorrections:
    for e in entries:
        if e.path == FIELDS_NAME:
            with connector.open(e) as f:
                data = f.read(4 << 20).decode("utf-8-sig", errors="replace")
            try:
                return FieldCorrections.parse(data, origin=e.path)
            except CorrectionError as exc:
                raise AssembleError(str(exc)) from exc
    return FieldCorrections()


def _sidecar_passwords(connector: Connector, entries: list[Entry]) -> Passwords:
    for e in entries:
        if e.path == PASSWORDS_NAME:
            with connector.open(e) as f:
                data = f.read(1 << 20).decode("utf-8-sig", errors="replace")
            try:
                return Passwords.parse(data, origin=e.path)
            except PasswordFileError as exc:
                raise AssembleError(str(exc)) from exc
    return Passwords()


def _passwords_option(passwords: Passwords | None, explicit: bool) -> dict[str, Any]:
    """What the up-to-date check records about an explicit passwords file: where it is and
    its size and time -- never its content (the fingerprint is kept in the cache). A sidecar
    at the source root is covered by the listing (its etag)."""
    if not explicit or passwords is None or not passwords.origin:
        return {}
    try:
        st = os.stat(passwords.origin)
    except OSError:
        return {"passwords": [passwords.origin]}
    return {"passwords": [os.path.abspath(passwords.origin), st.st_size, st.st_mtime_ns]}


def _decrypted(f: Fetched, passwords: Passwords, workdir: Path, n: int) -> Fetched | ExceptionRow:
    """The document itself, or -- for an encrypted PDF whose password the archivist gave --
    a decrypted copy in ``workdir`` with its own digests and a note naming the original's
    SHA-256. A wrong password makes the document an exception; the password never leaves
    this function."""
    password = passwords.lookup(f.entry.path)
    if password is None:
        return f
    try:
        with open(f.local, "rb") as fh:
            if fh.read(1024).find(b"%PDF-") < 0:
                return f  # only PDFs are decrypted; anything else is read as it is
    except OSError:
        return f
    dst = workdir / f"{n:06d}.pdf"
    try:
        if not decrypt_pdf(Path(f.local), dst, password):
            return f
    except ExtractionError as exc:
        return ExceptionRow(f.entry.path, exc.reason, kind=exc.kind, size=f.size, sha256=f.digests.get("sha256", ""))
    digests, size = digest_file(dst, tuple(f.digests))
    origin = Path(passwords.origin).name if passwords.origin else PASSWORDS_NAME
    return dataclasses.replace(f, local=dst, digests=digests, size=size, note=(
        f"原件已加密，已用密码文件（{origin}）中的密码解密后收入；原件 SHA-256：{f.digests.get('sha256', '')}"))


__all__ = ["AssembleError", "AssembleResult", "assemble", "default_workers", "document_year"]


# -- reading documents without assembling (evaluation, training) -----------------------------


def read_files(
    files: Iterable[tuple[Any, str | Path, str]], *, workers: int = 1, limits: Limits | None = None
) -> Iterator[tuple[Any, Extracted | ExtractionError]]:
    """Extract local files exactly as :func:`assemble` reads documents (same readers, worker
    processes, time and memory limits); yield ``(key, result)`` as each finishes.

    ``files`` holds ``(key, path, name)``: ``name`` is what the readers see as the document's
    name (they never see the folder it sits in).
    """
    jobs = (Job(key, str(path), name) for key, path, name in files)
    for job, result in extract_all(jobs, limits or Limits(), workers):
        yield job.key, result


def read_documents(
    source: str | Connector,
    *,
    entries: Iterable[Entry] | None = None,
    select: Callable[[Entry], bool] | None = None,
    workers: int = 1,
    limits: Limits | None = None,
) -> Iterator[tuple[Entry, Extracted | ExtractionError | DocumentUnavailable]]:
    """Fetch and extract the documents of ``source`` (all it lists, or ``entries`` when given)
    that ``select`` accepts, as :func:`assemble` does; yield ``(entry, result)`` as each finishes.

    A document that cannot be fetched yields :class:`DocumentUnavailable`, one that cannot be
    read :class:`ExtractionError`. Listing failures raise :class:`ConnectorError`.
    """
    connector = open_connector(source) if isinstance(source, str) else source
    listed = connector.walk() if entries is None else entries
    entries = [e for e in listed if not e.problem and (select is None or select(e))]
    cache = cache_dir() / "fetch" if entries and connector.local_path(entries[0]) is None else None
    fetcher = Fetcher(connector, cache)
    by_key: dict[int, Entry] = {}
    jobs: list[tuple[int, str, str]] = []
    for i, e in enumerate(entries):
        try:
            f = fetcher.fetch(e)
        except DocumentUnavailable as exc:
            yield e, exc
            continue
        by_key[i] = e
        jobs.append((i, str(f.local), e.name))
    for key, result in read_files(jobs, workers=workers, limits=limits):
        yield by_key[key], result
