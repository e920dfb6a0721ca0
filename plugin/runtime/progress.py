"""Progress reporting for long runs: a bar on a terminal, a callback for the DMS."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from ..lang.i18n import ui

STAGE_NAMES = {
    "list": "列出文件",
    "fetch": "获取文档",
    "extract": "读取内容",
    "classify": "归类",
    "assemble": "打包",
    "file": "归档",
    "verify": "校验",
}


class Progress:
    """Silent base class: the pipeline calls these hooks, subclasses show them."""

    def start(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, stage: str, n: int = 1) -> None:
        pass

    def finish(self, stage: str) -> None:
        pass


class CallbackProgress(Progress):
    """Calls ``fn(stage, done, total)`` on every change (thread-safe); the DMS status page
    and job table use this."""

    def __init__(self, fn: Callable[[str, int, int | None], None]) -> None:
        self.fn = fn
        self.done: dict[str, int] = {}
        self.total: dict[str, int | None] = {}
        self._lock = threading.Lock()

    def start(self, stage: str, total: int | None = None) -> None:
        with self._lock:
            self.done[stage] = 0
            self.total[stage] = total
        self.fn(stage, 0, total)

    def advance(self, stage: str, n: int = 1) -> None:
        with self._lock:
            self.done[stage] = self.done.get(stage, 0) + n
            done, total = self.done[stage], self.total.get(stage)
        self.fn(stage, done, total)

    def finish(self, stage: str) -> None:
        with self._lock:
            done, total = self.done.get(stage, 0), self.total.get(stage)
        self.fn(stage, total if total is not None else done, total)


class BarProgress(Progress):
    """One tqdm bar per stage on stderr (only when stderr is a terminal, unless forced)."""

    def __init__(self, force: bool = False) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.enabled = force or sys.stderr.isatty()
        self.bars: dict[str, object] = {}
        self._lock = threading.Lock()

    def start(self, stage: str, total: int | None = None) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.bars[stage] = self._tqdm(
                total=total, desc=ui(STAGE_NAMES.get(stage, stage)), unit="件", file=sys.stderr, leave=False, dynamic_ncols=True
            )

    def advance(self, stage: str, n: int = 1) -> None:
        bar = self.bars.get(stage)
        if bar is not None:
            with self._lock:
                bar.update(n)  # type: ignore[attr-defined]

    def finish(self, stage: str) -> None:
        bar = self.bars.pop(stage, None)
        if bar is not None:
            bar.close()  # type: ignore[attr-defined]
