"""Which connector serves which URL: every remote connector registers here.

A connector module calls :func:`register` at import time with a predicate that says
whether it serves a URL and a function that opens it. :func:`open_remote` asks them in
order of ``priority`` (highest first), so a specialised connector (Nextcloud, which is
WebDAV with extras) wins over the generic one it builds on. The registry imports no
connector: implementations depend on it, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Connector, ConnectorError


@dataclass(frozen=True)
class Opener:
    name: str
    claims: Callable[[str], bool]
    open: Callable[..., Connector]
    priority: int = 0


_OPENERS: dict[str, Opener] = {}


def register(name: str, claims: Callable[[str], bool], opener: Callable[..., Connector], *,
             priority: int = 0) -> None:
    """Register (or replace) the connector ``name`` for the URLs ``claims`` accepts."""
    _OPENERS[name] = Opener(name, claims, opener, priority)


def open_remote(url: str, **options: Any) -> Connector:
    """Open ``url`` with the highest-priority registered connector that claims it."""
    for opener in sorted(_OPENERS.values(), key=lambda o: -o.priority):
        if opener.claims(url):
            return opener.open(url, **options)
    raise ConnectorError("不支持的地址：只支持本地文件夹和 WebDAV（http/https）地址")
