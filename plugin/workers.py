"""Run document extraction in worker processes, with a time limit per document.

Extraction parses untrusted files with C and pure-Python parsers: it is CPU-bound (so it
runs in processes, using every core), it can hang on a malicious file (so each document
has a time limit, after which its worker is killed and the document becomes an
exception), and it can balloon in memory (so each worker has an address-space cap).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .extract import Extracted, ExtractionError, Limits, extract_document

#: Address-space cap per worker process (bytes); a zip bomb hits this, not the machine.
WORKER_MEMORY = int(os.environ.get("DOSSIER_WORKER_MEMORY", str(3 << 30)))


@dataclass(frozen=True)
class Job:
    key: int
    path: str
    name: str


def _init_worker() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


def run_one(path: str | Path, name: str, limits: Limits) -> Extracted | ExtractionError:
    """Extract one document; every failure is returned as an ExtractionError, never raised."""
    try:
        return extract_document(path, name, limits)
    except ExtractionError as exc:
        return exc
    except MemoryError:
        return ExtractionError("读取时内存超出上限（可能是压缩炸弹或异常文件），未收入", kind="bomb")
    except RecursionError:
        return ExtractionError("文件结构嵌套过深，无法解析", kind="corrupt")
    except Exception as exc:  # a reader bug or a parser choking on a malformed file
        return ExtractionError(f"读取失败（{type(exc).__name__}）", kind="unreadable")


def _timeout_error(limits: Limits) -> ExtractionError:
    return ExtractionError(f"读取超时（超过 {limits.timeout:.0f} 秒），可能是异常文件", kind="timeout")


#: Documents handed to the pool ahead of the workers (per worker): enough to keep every
#: worker busy, few enough that bookkeeping stays O(workers) per finished document and
#: that a crash leaves only a handful of suspects.
WINDOW_PER_WORKER = 3


def extract_all(
    jobs: Iterable[Job], limits: Limits, workers: int, on_done: Callable[[Job], None] | None = None
) -> Iterator[tuple[Job, Extracted | ExtractionError]]:
    """Yield ``(job, result)`` as documents finish (not in input order).

    ``jobs`` is consumed lazily, a bounded number at a time. A document running longer
    than ``limits.timeout`` becomes a timeout exception: its pool is killed and the other
    documents in flight are resubmitted to a fresh pool. When a worker dies (the OS
    killed it, or a C parser crashed), the documents that were in flight are re-run one
    by one in isolation to find the culprit; the rest continue in a fresh pool.
    """
    if workers <= 1 and _can_alarm():
        yield from _serial(jobs, limits, on_done)
        return
    # (In a thread, e.g. a web service's job runner, no timer can interrupt a reader:
    # even one worker then runs out of process, where a hung document can be killed.)
    workers = max(1, workers)
    source = iter(jobs)
    retry: collections.deque[Job] = collections.deque()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
    window = workers * WINDOW_PER_WORKER
    exhausted = False
    while True:
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
        inflight: dict[cf.Future, Job] = {}
        started: dict[cf.Future, float] = {}
        suspects: list[Job] = []
        try:
            while True:
                while len(inflight) < window and (retry or not exhausted):
                    if retry:
                        job = retry.popleft()
                    else:
                        job = next(source, None)
                        if job is None:
                            exhausted = True
                            break
                    inflight[pool.submit(run_one, job.path, job.name, limits)] = job
                if not inflight:
                    break
                done, _ = cf.wait(inflight, timeout=min(5.0, limits.timeout / 4), return_when=cf.FIRST_COMPLETED)
                broken = False
                for fut in done:
                    job = inflight.pop(fut)
                    started.pop(fut, None)
                    try:
                        result = fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        suspects.append(job)
                        continue
                    except MemoryError:
                        result = ExtractionError("读取时内存超出上限，未收入", kind="bomb")
                    if on_done:
                        on_done(job)
                    yield job, result
                if broken:
                    suspects.extend(inflight.values())
                    inflight.clear()
                    break
                now = time.monotonic()
                hung = []
                for fut in inflight:
                    if fut.running() and now - started.setdefault(fut, now) > limits.timeout:
                        hung.append(fut)
                if hung:
                    for fut in hung:
                        job = inflight.pop(fut)
                        if on_done:
                            on_done(job)
                        yield job, _timeout_error(limits)
                    retry.extendleft(reversed(list(inflight.values())))
                    inflight.clear()
                    break
        finally:
            _kill(pool)
        # A worker died: re-run the documents that were in flight one by one, so the
        # culprit is identified and the others survive.
        for job in suspects:
            yield from _isolated(job, limits, ctx, on_done)
        if exhausted and not retry and not inflight:
            return


def _isolated(job: Job, limits: Limits, ctx, on_done) -> Iterator[tuple[Job, Extracted | ExtractionError]]:
    pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_worker)
    try:
        fut = pool.submit(run_one, job.path, job.name, limits)
        try:
            result = fut.result(timeout=limits.timeout)
        except cf.TimeoutError:
            result = _timeout_error(limits)
        except cf.process.BrokenProcessPool:
            result = ExtractionError("读取时解析程序崩溃（文件可能已损坏），未收入", kind="corrupt")
    finally:
        _kill(pool)
    if on_done:
        on_done(job)
    yield job, result


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class _Deadline(BaseException):
    """Raised inside a reader when its time is up (BaseException: readers catch Exception)."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (serial mode, main thread, POSIX only).

    Worker processes are killed from outside when they overrun; in-process runs have no
    outside, so an interval timer raises inside the reader instead. Python code is
    interrupted promptly; a long call inside a C parser is interrupted when it returns,
    and external tools (LibreOffice, Tesseract) have their own time limits.
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
    """:func:`run_one` under the per-document time limit, in the current process."""
    try:
        with _deadline(limits.timeout):
            return run_one(path, name, limits)
    except _Deadline:
        return _timeout_error(limits)


def _serial(jobs: Iterable[Job], limits: Limits, on_done) -> Iterator[tuple[Job, Extracted | ExtractionError]]:
    for job in jobs:
        result = run_with_deadline(job.path, job.name, limits)
        if on_done:
            on_done(job)
        yield job, result


def _kill(pool: cf.ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())  # None once shut down
    for p in procs:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=True, cancel_futures=True)
