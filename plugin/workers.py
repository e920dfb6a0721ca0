"""Run document extraction in worker processes, with a time limit per document.

Extraction parses untrusted files with C and pure-Python parsers: it is CPU-bound (so it
runs in processes, using every core), it can hang on a malicious file (so each document
has a time limit, after which its worker is killed and the document becomes an
exception), and it can balloon in memory (so each worker has an address-space cap).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
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


def extract_all(
    jobs: Iterable[Job], limits: Limits, workers: int, on_done: Callable[[Job], None] | None = None
) -> Iterator[tuple[Job, Extracted | ExtractionError]]:
    """Yield ``(job, result)`` as documents finish (not in input order)."""
    if workers <= 1:
        yield from _serial(jobs, limits, on_done)
        return
    pending = list(jobs)
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
    while pending:
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
        futures = {pool.submit(run_one, j.path, j.name, limits): j for j in pending}
        pending = []
        seen_running: dict[cf.Future, float] = {}
        broken = False
        try:
            not_done = set(futures)
            while not_done:
                done, not_done = cf.wait(not_done, timeout=min(5.0, limits.timeout / 4), return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    job = futures[fut]
                    try:
                        result = fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        pending.append(job)
                        continue
                    except MemoryError:
                        result = ExtractionError("读取时内存超出上限，未收入", kind="bomb")
                    if on_done:
                        on_done(job)
                    yield job, result
                if broken:
                    break
                now = time.monotonic()
                hung = []
                for fut in not_done:
                    if fut.running():
                        started = seen_running.setdefault(fut, now)
                        if now - started > limits.timeout:
                            hung.append(fut)
                if hung:
                    for fut in hung:
                        job = futures[fut]
                        not_done.discard(fut)
                        if on_done:
                            on_done(job)
                        yield job, _timeout_error(limits)
                    pending.extend(futures[f] for f in not_done)
                    not_done = set()
                    _kill(pool)
            if broken:
                # A worker died (killed by the OS, or a crash in a C parser). Re-run the
                # rest one by one so the culprit is identified and the others survive.
                pending.extend(futures[f] for f in futures if not f.done())
                rest, pending = pending, []
                for job in rest:
                    yield from _isolated(job, limits, ctx, on_done)
        finally:
            _kill(pool)


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


def _serial(jobs: Iterable[Job], limits: Limits, on_done) -> Iterator[tuple[Job, Extracted | ExtractionError]]:
    for job in jobs:
        result = run_one(job.path, job.name, limits)
        if on_done:
            on_done(job)
        yield job, result


def _kill(pool: cf.ProcessPoolExecutor) -> None:
    procs = list(getattr(pool, "_processes", {}).values())
    for p in procs:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=True, cancel_futures=True)
