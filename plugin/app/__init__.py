"""The Nextcloud plugin (an AppAPI "ExApp") and its standalone twin.

Three entry points, one service:

1. **Files menu** — ``生成交接档案包`` on a folder queues a durable job that assembles a draft
   bundle and a 交接书 to sign next to the folder, with a live status page and notifications.
2. **Signed certificate** — a webhook (Nextcloud 30+) or the poller finds a signed copy of the
   交接书, verifies every required signature with pyHanko, then assembles the final bundle,
   files it into the leader's dossier folder, tags it 已归档, records it and notifies.
3. **Retrieval** — the registry of filed bundles is searched from the web page, the HTTP API or
   ``dossier query``; ``dossier fetch`` / download pulls a bundle back, verifies it and logs
   the access.

Modules: ``config`` (settings), ``store`` (schema), ``jobs`` (durable queue), ``appapi`` (auth
and OCS client), ``dms`` (where files live), ``flows`` (job handlers), ``signing`` (pyHanko
check), ``certificate`` (the 交接书 PDF), ``registry``, ``cases``, ``notify``, ``service``
(wiring), ``web`` (FastAPI), ``server`` and ``commands`` (CLI).
"""

from __future__ import annotations

__all__ = ["Service", "Settings", "create_app", "load_settings"]


def __getattr__(name: str):  # lazy: importing the package must not pull in FastAPI
    if name in ("Settings", "load_settings"):
        from . import config

        return getattr(config, name)
    if name == "Service":
        from .service import Service

        return Service
    if name == "create_app":
        from .web import create_app

        return create_app
    raise AttributeError(name)
