"""Digests computed in one pass while bytes stream by.

SHA-256 is the bag's primary fixity; SM3 (GB/T 32905, the Chinese national hash used for
electronic records) is computed through OpenSSL in the same pass. Never read a file twice
to hash it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

#: Algorithms written into every bundle's manifests, in manifest order.
BAG_ALGORITHMS: tuple[str, ...] = ("sha256", "sm3")

CHUNK = 1 << 20


def sm3_available() -> bool:
    try:
        hashlib.new("sm3")
    except ValueError:
        return False
    return True


def bag_algorithms() -> tuple[str, ...]:
    """The manifest algorithms this machine can compute (SM3 needs an OpenSSL with SM3)."""
    return BAG_ALGORITHMS if sm3_available() else ("sha256",)


class MultiHasher:
    """Feed bytes once, get several digests."""

    def __init__(self, algorithms: Iterable[str] = BAG_ALGORITHMS) -> None:
        self._h = {alg: hashlib.new(alg) for alg in algorithms}
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        for h in self._h.values():
            h.update(data)

    def hexdigests(self) -> dict[str, str]:
        return {alg: h.hexdigest() for alg, h in self._h.items()}


def digest_stream(stream: BinaryIO, algorithms: Iterable[str] = BAG_ALGORITHMS) -> tuple[dict[str, str], int]:
    mh = MultiHasher(algorithms)
    while chunk := stream.read(CHUNK):
        mh.update(chunk)
    return mh.hexdigests(), mh.size


def digest_file(path: str | Path, algorithms: Iterable[str] = BAG_ALGORITHMS) -> tuple[dict[str, str], int]:
    with open(path, "rb") as f:
        return digest_stream(f, algorithms)


def digest_bytes(data: bytes, algorithms: Iterable[str] = BAG_ALGORITHMS) -> dict[str, str]:
    mh = MultiHasher(algorithms)
    mh.update(data)
    return mh.hexdigests()
