"""Give freed heap memory back to the operating system (glibc ``malloc_trim``).

Rendering builds and drops many short-lived python-docx documents (reference cycles that
hold lxml trees; libxml2 allocates with malloc); glibc keeps freed pages in its arenas, so a process that renders a 20,000-row
catalogue chunk by chunk would still grow with every chunk although nothing is alive.
Trimming after each chunk keeps the resident size at what one chunk needs. A no-op where
the C library has no ``malloc_trim`` (musl, macOS, Windows).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _trim_function():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def release_memory(collect: bool = True) -> None:
    """Collect cyclic garbage, then return free heap pages to the OS where the C library
    allows it. python-docx documents are reference cycles (package <-> parts) holding
    whole lxml trees: without a collection they outlive their use until the collector's
    oldest generation happens to run."""
    if collect:
        gc.collect()  # ~50 ms in a process with the classifier loaded: not per small document
    fn = _trim_function()
    if fn is not None:
        fn(0)
