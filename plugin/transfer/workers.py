"""Read (and classify) documents in worker processes, with a time limit per document.

Extraction parses untrusted files with C and pure-Python parsers: it is CPU-bound (so it
runs in processes, using every core), it can hang on a malicious file (so each document
has a time limit, after which its worker is killed and the document becomes an
exception), and it can balloon in memory (so each worker has an address-space cap,
:mod:`..runtime.sandbox`). Every read runs in such a worker -- a run of three documents
too: a parser is never run in the process that drives the run, where a flate bomb or a
PDF of millions of text operators would take the machine's memory with it.

Classification is CPU-bound too (character n-grams, a linear model: a few milliseconds a
document), and it needs the text that extraction has just produced. So a worker does
both: it reads a document -- or takes the result from the extraction cache
(:mod:`.extractcache`) -- classifies it with the run's classifier (handed to every worker
once, when it starts) and sends back only the small result, never the text. The main
process then has nothing left to do per document but bookkeeping, and the fetch stage
and the workers run side by side.

:class:`ReadPool` is the engine (submit documents as they arrive, collect results as
they finish); :func:`extract_all` is the simple form (extraction only, full text) used
by ``dossier eval`` and ``dossier train``.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..extract import Extracted, ExtractionError, Limits, extract_document
from ..runtime.memtrim import release_memory
from ..runtime.sandbox import init_worker, kill_pool, memory_cap, mp_context, safe_environ


@dataclass(frozen=True)
class Job:
    key: int
    path: str
    name: str


@dataclass(frozen=True)
class Task:
    """One document for the pool: read it (or take it from the extraction cache under
    ``sha256``) and, when ``doc`` is given, classify it (``doc.text`` is filled in)."""

    key: int
    path: str
    name: str
    sha256: str = ""
    doc: Any = None  # ClassifyInput | None (kept loose: workers import classify lazily)


@dataclass
class Outcome:
    """What became of a :class:`Task`. ``result.text`` is empty when the document was
    classified in the worker (the text stays there)."""

    result: Extracted | ExtractionError
    decision: Any = None  # Classification | None
    from_cache: bool = False
    extract_seconds: float = 0.0
    classify_seconds: float = 0.0


@dataclass
class _State:
    """What a worker needs besides the task: the run's classifier and extraction cache."""

    classifier: Any = None
    cache: Any = None  # ExtractCache | None


_WORKER_STATE = _State()


def _init_worker(cap: int, env: dict[str, str], state: _State | None = None) -> None:
    """Worker start: memory cap and environment (:func:`..runtime.sandbox.init_worker`); the
    run's state."""
    init_worker(cap, env)
    global _WORKER_STATE
    _WORKER_STATE = state or _State()


def _transient(reason: str, kind: str) -> ExtractionError:
    """An error that depends on this run (memory, a crash), not on the document: the
    extraction cache does not keep it."""
    err = ExtractionError(reason, kind=kind)
    err.transient = True  # type: ignore[attr-defined]
    return err


def run_one(path: str | Path, name: str, limits: Limits) -> Extracted | ExtractionError:
    """Extract one document; every failure is returned as an ExtractionError, never raised."""
    try:
        return extract_document(path, name, limits)
    except ExtractionError as exc:
        return exc
    except MemoryError:
        return _transient("读取时内存超出上限（可能是压缩炸弹或异常文件），未收入", "bomb")
    except RecursionError:
        return ExtractionError("文件结构嵌套过深，无法解析", kind="corrupt")
    except Exception as exc:  # a reader bug or a parser choking on a malformed file
        return ExtractionError(f"读取失败（{type(exc).__name__}）", kind="unreadable")


def _timeout_error(limits: Limits) -> ExtractionError:
    return ExtractionError(f"读取超时（超过 {limits.timeout:.0f} 秒），可能是异常文件", kind="timeout")


def _process(task: Task, limits: Limits, state: _State, read: Callable[..., Extracted | ExtractionError]) -> Outcome:
    """Read (cache first) and classify one task; ``read`` is :func:`run_one` in a worker
    (killed from outside when it overruns)."""
    t = time.perf_counter()
    result = state.cache.get(task.sha256, task.name) if state.cache is not None else None
    from_cache = result is not None
    if result is None:
        result = read(task.path, task.name, limits)
        if state.cache is not None:
            state.cache.put(task.sha256, task.name, result)
    extract_seconds = time.perf_counter() - t
    decision = None
    classify_seconds = 0.0
    if task.doc is not None and isinstance(result, Extracted) and state.classifier is not None:
        t = time.perf_counter()
        title, composed = result.classifier_title()
        doc = replace(task.doc, title=title, text=result.text, title_composed=composed,
                      text_missing=result.needs_review and not result.text.strip())
        decision = state.classifier.classify(doc)
        classify_seconds = time.perf_counter() - t
        result = replace(result, text="")
    return Outcome(result, decision, from_cache, extract_seconds, classify_seconds)


#: After reading a document at least this large, a worker hands freed heap pages back to
#: the OS: a 40 MB scan or a 3 MB DOCX leaves tens of MB in malloc's arenas otherwise,
#: and long-lived workers would keep their largest document's footprint for good.
TRIM_AFTER_BYTES = 1 << 20


def _run_task(task: Task, limits: Limits) -> Outcome:
    """Entry point in a worker process."""
    outcome = _process(task, limits, _WORKER_STATE, run_with_deadline)
    if not outcome.from_cache:
        try:
            big = os.path.getsize(task.path) >= TRIM_AFTER_BYTES
        except OSError:
            big = False
        if big:
            release_memory(collect=False)
    return outcome


#: Documents handed to the pool ahead of the workers (per worker): enough to keep every
#: worker busy, few enough that bookkeeping stays O(workers) per finished document and
#: that a crash leaves only a handful of suspects.
WINDOW_PER_WORKER = 3


class ReadPool:
    """Documents in, results out, as they finish (not in submission order).

    ``submit()`` never blocks (tasks wait in a queue of small records); ``drain(timeout)``
    returns what finished within ``timeout``. Documents are read in ``workers`` capped
    processes (at least one). A document running longer than
    ``limits.timeout`` becomes a timeout exception: its pool is killed and the other
    documents in flight are resubmitted to a fresh pool. When a worker dies (the OS killed
    it, or a C parser crashed), the documents that were in flight are re-run one by one
    in isolation to find the culprit; the rest continue in a fresh pool.
    """

    def __init__(self, limits: Limits, workers: int, *, classifier: Any = None, cache: Any = None) -> None:
        self.limits = limits
        self.workers = max(1, workers)
        self.state = _State(classifier, cache)
        self._queue: collections.deque[Task] = collections.deque()
        self._inflight: dict[cf.Future, Task] = {}
        self._started: dict[cf.Future, float] = {}
        self._pool: cf.ProcessPoolExecutor | None = None
        self._ctx = mp_context()
        self.window = self.workers * WINDOW_PER_WORKER

    @property
    def pending(self) -> int:
        """Tasks submitted and not yet returned by :meth:`drain`."""
        return len(self._queue) + len(self._inflight)

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def drain(self, timeout: float = 0.0) -> list[tuple[Task, Outcome]]:
        self._fill()
        if not self._inflight:
            return []
        done, _ = cf.wait(self._inflight, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        out: list[tuple[Task, Outcome]] = []
        suspects: list[Task] = []
        for fut in done:
            task = self._inflight.pop(fut)
            self._started.pop(fut, None)
            try:
                outcome = fut.result()
            except cf.process.BrokenProcessPool:
                suspects.append(task)
                continue
            except MemoryError:
                outcome = Outcome(_transient("读取时内存超出上限，未收入", "bomb"))
            out.append((task, outcome))
        if suspects:
            # A worker died: every document in flight is a suspect.
            suspects.extend(self._inflight.values())
            self._reset()
            out.extend((task, self._isolated(task)) for task in suspects)
        else:
            now = time.monotonic()
            hung = [fut for fut in self._inflight
                    if fut.running() and now - self._started.setdefault(fut, now) > self.limits.timeout]
            if hung:
                for fut in hung:
                    out.append((self._inflight.pop(fut), Outcome(_timeout_error(self.limits))))
                self._queue.extendleft(reversed(list(self._inflight.values())))
                self._reset()
        self._fill()
        return out

    def close(self) -> None:
        self._queue.clear()
        self._reset()

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------
    def _new_pool(self, workers: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=self._ctx, initializer=_init_worker,
                                      initargs=(memory_cap(), safe_environ(), self.state))

    def _fill(self) -> None:
        while len(self._inflight) < self.window and self._queue:
            if self._pool is None:
                self._pool = self._new_pool(self.workers)
            task = self._queue.popleft()
            self._inflight[self._pool.submit(_run_task, task, self.limits)] = task

    def _reset(self) -> None:
        self._inflight.clear()
        self._started.clear()
        if self._pool is not None:
            kill_pool(self._pool)
            self._pool = None

    def _isolated(self, task: Task) -> Outcome:
        pool = self._new_pool(1)
        try:
            fut = pool.submit(_run_task, task, self.limits)
            try:
                return fut.result(timeout=self.limits.timeout)
            except cf.TimeoutError:
                return Outcome(_timeout_error(self.limits))
            except cf.process.BrokenProcessPool:
                return Outcome(_transient("读取时解析程序崩溃或内存超出上限（文件可能已损坏或被恶意构造），未收入", "corrupt"))
        finally:
            kill_pool(pool)


def extract_all(
    jobs: Iterable[Job], limits: Limits, workers: int, on_done: Callable[[Job], None] | None = None
) -> Iterator[tuple[Job, Extracted | ExtractionError]]:
    """Yield ``(job, result)`` as documents finish (not in input order), full text included.

    ``jobs`` is consumed lazily, a bounded number at a time; time limits and crashes are
    handled as in :class:`ReadPool`.
    """
    source = iter(jobs)
    by_task: dict[int, Job] = {}
    counter = 0
    exhausted = False
    with ReadPool(limits, workers) as pool:
        while True:
            while not exhausted and pool.pending < pool.window * 2:
                job = next(source, None)
                if job is None:
                    exhausted = True
                    break
                by_task[counter] = job
                pool.submit(Task(counter, job.path, job.name))
                counter += 1
            if exhausted and not pool.pending:
                return
            for task, outcome in pool.drain(timeout=min(5.0, limits.timeout / 4)):
                job = by_task.pop(task.key)
                if on_done:
                    on_done(job)
                yield job, outcome.result


def _can_alarm() -> bool:
    """An interval timer can interrupt a reader here: POSIX, the main thread, and nobody
    else uses SIGALRM (a job runner such as RQ arms it for its own job timeout)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    return signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)


class _Deadline(BaseException):
    """Raised inside a reader when its time is up (BaseException: readers catch Exception)."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (a worker's main thread, POSIX only).

    A reader in Python code is interrupted promptly, and the worker lives on for the next
    document; a long call inside a C parser is interrupted when it returns -- or, if it
    never does, the pool kills the worker from outside. External tools (LibreOffice,
    Tesseract) have their own time limits.
    """
    if not _can_alarm():
        yield
        return

    def _expired(signum, frame):
        raise _Deadline()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_with_deadline(path: str | Path, name: str, limits: Limits) -> Extracted | ExtractionError:
    """:func:`run_one` under the per-document time limit (in a worker process)."""
    try:
        with _deadline(limits.timeout):
            return run_one(path, name, limits)
    except _Deadline:
        return _timeout_error(limits)
