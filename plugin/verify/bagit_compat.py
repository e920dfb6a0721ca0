"""bagit-python with SM3.

bagit only recognises ``hashlib.algorithms_guaranteed`` when it loads a bag, so an SM3
manifest is silently ignored (and an SM3-only bag fails with "No manifest files found").
Registering ``sm3`` in ``bagit.CHECKSUM_ALGOS`` makes it recompute SM3 like any other
digest. The registration is module-global, so it is done inside a lock and undone after.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bagit

from ..hashing import sm3_available

_lock = threading.Lock()


@contextmanager
def sm3_registered() -> Iterator[None]:
    with _lock:
        saved = bagit.CHECKSUM_ALGOS
        if sm3_available():
            bagit.CHECKSUM_ALGOS = set(saved) | {"sm3"}
        try:
            yield
        finally:
            bagit.CHECKSUM_ALGOS = saved


def validate_bag(path: Path, processes: int = 1) -> list[str]:
    """Validate a bag directory with bagit-python; returns problem descriptions (empty = valid)."""
    with sm3_registered():
        try:
            bag = bagit.Bag(str(path))
            bag.validate(processes=processes)
        except bagit.BagValidationError as exc:
            details = [str(d) for d in getattr(exc, "details", [])]
            return details or [str(exc)]
        except bagit.BagError as exc:
            return [str(exc)]
    return []
