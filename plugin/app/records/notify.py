"""Notifications to archivists: "queued", "done (with a link)", "failed (with the reason)",
deadline warnings.

Every notification is first written to the ``notifications`` table (the status page lists
them; standalone mode has nothing else), then — in ExApp mode — delivered to Nextcloud by a
sender thread, so that an HTTP handler never waits on Nextcloud and a notification that could
not be delivered (maintenance mode, restart) is retried later.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import false, select, update
from sqlalchemy.engine import Engine

from ...lang.i18n import ui
from ..appapi import NextcloudClient, NextcloudError
from .owner import SYSTEM, Principal
from .store import notifications, now

log = logging.getLogger("handover_dossier.app.records.notify")


class Notifier:
    def __init__(self, engine: Engine, client: NextcloudClient | None = None, lang: str | None = None) -> None:
        self.engine = engine
        self.client = client
        self.lang = lang
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, user: str, kind: str, subject: str, message: str = "", link: str = "", object_id: str = "") -> int:
        """Record a notification (Simplified; converted at delivery) and wake the sender."""
        with self.engine.begin() as c:
            res = c.execute(notifications.insert().values(
                user=user, kind=kind, object_id=object_id, subject=subject, message=message, link=link,
                created=now(), sent=self.client is None, error="",
            ))
        self._wake.set()
        return int(res.inserted_primary_key[0])

    def recent(self, limit: int = 20, *, viewer: Principal) -> list[dict]:
        """The newest notifications addressed to ``viewer`` (notifications are personal:
        archivists see only their own too; :data:`~.owner.SYSTEM` sees all)."""
        q = select(notifications).order_by(notifications.c.id.desc()).limit(limit)
        if viewer is not SYSTEM:
            q = q.where(notifications.c.user == viewer.user) if viewer.user else q.where(false())
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(q)]

    def deliver_pending(self) -> int:
        """Send what has not reached Nextcloud yet; returns how many were delivered."""
        if self.client is None:
            return 0
        with self.engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(
                select(notifications).where(notifications.c.sent.is_(False)).order_by(notifications.c.id).limit(50))]
        sent = 0
        for n in rows:
            try:
                self.client.notify(n["user"], ui(n["subject"], self.lang), ui(n["message"], self.lang), n["link"],
                                   object_id=n["object_id"] or f"n{n['id']}")
            except NextcloudError as exc:
                with self.engine.begin() as c:
                    c.execute(update(notifications).where(notifications.c.id == n["id"]).values(error=str(exc)))
                log.warning("notification %s not delivered: %s", n["id"], exc)
                break  # Nextcloud is unreachable or refusing: try again later, in order
            with self.engine.begin() as c:
                c.execute(update(notifications).where(notifications.c.id == n["id"]).values(sent=True, error=""))
            sent += 1
        return sent

    def start(self, retry_seconds: float = 30.0) -> None:
        if self.client is None or self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver_pending()
                except Exception:  # never let the sender die
                    log.exception("notification sender failed")
                self._wake.wait(retry_seconds)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="dossier-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
