"""Worker processes for parsing untrusted bytes: a memory cap, a time limit, no secrets.

Documents from a DMS and bundles pulled back from it are parsed by C and pure-Python
parsers (PDFium, pypdf, lxml, Pillow, openpyxl) that a crafted file can drive into
gigabytes of memory or minutes of work. No such parse runs in the process that serves
users or drives a run: it runs in a worker process whose address space is capped
(``RLIMIT_AS``) and which is killed from outside when it overruns its time. A parser
that hits the cap raises MemoryError (or, in C, dies): either way only the worker is
lost, and the caller records the document as an exception or the check as failed.

Workers also do not inherit secrets: the environment they get (and hand to LibreOffice
or Tesseract) has every variable that names a password, secret, token or key removed.

:func:`mp_context` is the one process context both the read pool (:mod:`..transfer.workers`)
and verify (:mod:`..verify.content`) use: a fork server that has imported the parsers
once, so a worker starts in milliseconds.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

#: Default address-space cap per worker process; ``DOSSIER_WORKER_MEMORY`` overrides it.
DEFAULT_MEMORY = 3 << 30

#: Variables never handed to a worker or an external tool (names matched case-insensitively).
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|AUTH)", re.I)
_SECRET_VARS = {"APP_SECRET", "DOSSIER_PASSWORD", "DOSSIER_USER", "DOSSIER_LOGIN_PASSWORD", "DOSSIER_QUEUE_SECRET",
                "NETRC", "DOSSIER_REDIS_URL", "REDIS_URL", "DATABASE_URL", "DOSSIER_DB_URL"}

#: Modules the fork server imports once, so that every worker starts with them loaded and
#: their pages are shared between the workers (they are read-only after import).
PRELOAD = ("handover_dossier.transfer.workers", "handover_dossier.verify.content", "handover_dossier.classify.model",
           "handover_dossier.lang.textnorm", "pypdfium2", "pypdf", "openpyxl", "docx", "lxml.etree", "PIL.Image",
           "charset_normalizer", "numpy")


class Overrun(Exception):
    """A capped call did not finish: ``kind`` is ``timeout``, ``memory`` or ``crash``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind

    @property
    def reason(self) -> str:
        """Chinese, for exceptions lists and verify findings."""
        return {
            "timeout": "处理超时，已中止（可能是恶意构造或损坏的文件）",
            "memory": "处理时内存超出上限，已中止（可能是恶意构造的文件或压缩炸弹）",
        }.get(self.kind, "解析程序崩溃，已中止（文件可能已损坏）")


def parse_size(text: str) -> int:
    """``"3G"``, ``"512M"``, ``"300000000"`` -> bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?)i?B?\s*", text or "", re.I)
    if not m:
        raise ValueError(f"无法识别的大小：{text!r}")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]


def memory_cap() -> int:
    """The address-space cap of a worker (bytes), read now (tests lower it)."""
    value = os.environ.get("DOSSIER_WORKER_MEMORY", "")
    try:
        return parse_size(value) if value else DEFAULT_MEMORY
    except ValueError:
        return DEFAULT_MEMORY


def safe_environ(env: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``env`` (default: this process's) without secrets, plus ``extra``: what a worker or an
    external tool (LibreOffice, Tesseract) gets."""
    src = os.environ if env is None else env
    out = {k: v for k, v in src.items() if k.upper() not in _SECRET_VARS and not _SECRET_NAME.search(k)}
    out.update(extra)
    return out


def limit_memory(cap: int) -> None:
    """Cap this process's address space (in a worker, before it parses anything)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX, or a stricter hard limit
        pass


def init_worker(cap: int, env: Mapping[str, str]) -> None:
    """Worker start: the memory cap; the parent's environment as it is *now* (a fork server
    keeps the environment of the moment it started, and settings such as
    ``DOSSIER_TESSERACT`` may have changed since), without secrets."""
    limit_memory(cap)
    for k in list(os.environ):
        if k not in env:
            del os.environ[k]
    os.environ.update(env)


def mp_context() -> Any:
    """The process context for capped workers: a fork server with the parsers preloaded
    (spawn where there is none)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Takes effect when this process starts its fork server (the first pool), not after.
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def kill_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool at once, killing workers that are still busy."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # None once shut down
    for p in procs:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=True, cancel_futures=True)


class CappedWorker:
    """One capped worker process for a sequence of calls (``with CappedWorker(...) as w:``).

    ``call(fn, *args)`` runs ``fn`` in the worker and returns its result; a call that runs
    longer than ``timeout`` seconds, exhausts the memory cap or kills the worker raises
    :class:`Overrun`, and the next call gets a fresh worker.
    """

    def __init__(self, timeout: float, memory: int | None = None,
                 initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> None:
        self.timeout = timeout
        self.memory = memory if memory is not None else memory_cap()
        self._init = (initializer, initargs)
        self._pool: cf.ProcessPoolExecutor | None = None

    def _new(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=1, mp_context=mp_context(), initializer=_init_capped,
                                      initargs=(self.memory, safe_environ(), *self._init))

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        if self._pool is None:
            self._pool = self._new()
        fut = self._pool.submit(fn, *args)
        try:
            return fut.result(timeout=timeout or self.timeout)
        except cf.TimeoutError:
            self._reset()
            raise Overrun("timeout") from None
        except cf.process.BrokenProcessPool:
            self._reset()
            raise Overrun("crash") from None
        except MemoryError:
            raise Overrun("memory") from None

    def _reset(self) -> None:
        if self._pool is not None:
            kill_pool(self._pool)
            self._pool = None

    def close(self) -> None:
        self._reset()

    def __enter__(self) -> CappedWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _init_capped(cap: int, env: Mapping[str, str], initializer: Callable[..., None] | None, initargs: tuple) -> None:
    init_worker(cap, env)
    if initializer is not None:
        initializer(*initargs)
