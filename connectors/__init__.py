"""Connectors: where documents come from and where bundles are filed.

:func:`open_connector` turns a location string (a folder path or a URL) into a
:class:`Connector`. The pipeline never imports a concrete connector.
"""

from __future__ import annotations

from .base import (
    AlreadyExists,
    AuthenticationError,
    Connector,
    ConnectorError,
    DocumentUnavailable,
    Entry,
    QuotaExceededError,
)

__all__ = [
    "AlreadyExists",
    "AuthenticationError",
    "Connector",
    "ConnectorError",
    "DocumentUnavailable",
    "Entry",
    "QuotaExceededError",
    "is_url",
    "open",
    "open_connector",
]


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def open_connector(location: str, **options: object) -> Connector:
    """Open the connector for ``location``.

    - a local folder path -> :class:`~.local.LocalConnector`
    - ``http(s)://HOST/remote.php/dav/files/USER/...`` -> Nextcloud
    - any other ``http(s)://`` URL -> generic WebDAV (RFC 4918)
    """
    if is_url(location):
        # Importing the remote connectors registers them (generic WebDAV, then Nextcloud).
        from . import nextcloud, webdav  # noqa: F401
        from .registry import open_remote

        return open_remote(location, **options)
    from .local import LocalConnector

    return LocalConnector(location)


#: The short name integrators use: ``handover_dossier.connectors.open(location)``.
open = open_connector
