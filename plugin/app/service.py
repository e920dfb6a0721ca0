"""The running app: settings, database, DMS, job workers, notifier and the poller, wired once.

Used by the web app (``dossier serve``) and by the ``query`` / ``fetch`` / ``case`` commands,
which open the same database without starting any thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete

from ..inventory import Inventory, default_inventory, load_inventory
from ..runtime.resources import private_dir
from . import flows
from .appapi import NextcloudClient
from .config import Settings
from .dms import open_dms
from .records.cases import check_deadlines
from .records.jobs import JobQueue
from .records.notify import Notifier
from .records.owner import SYSTEM, Principal
from .records.store import jobs, now, open_engine

log = logging.getLogger("handover_dossier.app")


class Service:
    def __init__(self, settings: Settings, *, today: Callable[[], dt.date] | None = None) -> None:
        self.settings = settings
        # The database, work files and fetched bundles are a leader's records: owner only.
        private_dir(settings.data_dir)
        settings.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if settings.dms_root is not None:
            settings.dms_root.mkdir(parents=True, exist_ok=True)
        self.engine = open_engine(settings.database_url)
        self.client = NextcloudClient(settings) if settings.exapp else None
        self.notifier = Notifier(self.engine, self.client)
        self.dms = open_dms(settings)
        self.today = today or dt.date.today
        self.queue = JobQueue(self.engine, settings.workers)
        self.queue.handlers.update({
            "assemble": lambda ctx: flows.assemble_job(self, ctx),
            "scan": lambda ctx: flows.scan_job(self, ctx),
            "archive": lambda ctx: flows.archive_job(self, ctx),
        })
        self.queue.on_finished = lambda job: flows.on_finished(self, job)
        self.queue.public_text = self.public_text
        self.webhooks: list[str] = []
        self.webhook_error = ""
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._principals: dict[str, tuple[float, Principal]] = {}
        self._principals_lock = threading.Lock()

    @cached_property
    def inventory(self) -> Inventory:
        return load_inventory(self.settings.inventory) if self.settings.inventory else default_inventory()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, poller: bool = True) -> None:
        self.queue.start()
        self.notifier.start()
        if poller and self._poller is None:
            self._stop.clear()
            self._poller = threading.Thread(target=self._poll_loop, name="dossier-poller", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(10)
            self._poller = None
        self.queue.stop()
        self.notifier.stop()

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the safety net must keep running
                log.exception("poll failed")
            self._stop.wait(self.settings.poll_seconds)

    def poll_once(self) -> dict[str, Any]:
        """The safety net: queue a scan for signed certificates (webhooks are not retried by
        Nextcloud and do not exist before Nextcloud 30) and send due deadline notifications."""
        pending = [j for j in self.queue.list(viewer=SYSTEM, limit=50) if j.kind == "scan" and j.status == "queued"]
        job = pending[0] if pending else flows.enqueue_scan(self, f"scan:poll:{time.time_ns()}")[0]
        sent = check_deadlines(self.engine, self.notifier, today=self.today(), draft_days=self.settings.draft_days,
                               deadline_days=self.settings.deadline_days, default_user=self.settings.notify_user)
        with self.engine.begin() as c:  # finished scans are bookkeeping only; keep a day of them
            c.execute(delete(jobs).where(jobs.c.kind == "scan", jobs.c.status == "done", jobs.c.finished < now() - 86400))
        return {"scan_job": job.id, "deadline_notifications": sent}

    def public_text(self, text: str) -> str:
        """``text`` without this server's own paths: a job error or notification names places
        as the user knows them (``/交接材料/张三``), never ``/var/lib/…/dms/<user>/…``."""
        import re

        roots: list[tuple[str, str]] = []
        if self.settings.dms_root is not None:
            for r in dict.fromkeys((str(self.settings.dms_root), str(self.settings.dms_root.resolve()))):
                # per-user local roots: <root>/<user>/... -> /...
                roots.append((re.escape(r.rstrip("/")) + (r"/[^/\s：:]+" if self.settings.exapp else ""), ""))
        for d in (self.settings.work_dir, self.settings.data_dir):
            for r in dict.fromkeys((str(d), str(d.resolve()))):
                roots.append((re.escape(r.rstrip("/")) + r"(?:/[^\s：:，,）)]*)?", "（服务数据目录）"))
        for pattern, repl in roots:
            text = re.sub(pattern, repl, text)
        return text

    # -- who is asking -----------------------------------------------------------------------
    #: Seconds a user's groups (archivist, admin) are trusted before Nextcloud is asked again.
    PRINCIPAL_TTL = 60.0

    def principal(self, user: str) -> Principal:
        """What the request's user may see (see :mod:`.records.owner`).

        ExApp mode: the user's groups are asked of Nextcloud (OCS, as that user) and kept for
        a minute; when Nextcloud cannot be asked, the user sees only their own records — the
        failure never grants anything. Standalone mode has one operator (the configured login
        or the local user), who sees everything.
        """
        if not self.settings.exapp:
            return Principal(user or self.settings.local_user, sees_all=True, admin=True)
        if not user or self.client is None:
            return Principal(user)
        t = time.monotonic()
        with self._principals_lock:
            hit = self._principals.get(user)
        if hit is not None and t - hit[0] < self.PRINCIPAL_TTL:
            return hit[1]
        from .appapi import NextcloudError

        try:
            groups = self.client.user_groups(user)
        except NextcloudError as exc:
            log.warning("groups of %s not known (%s): own records only", user, exc)
            return Principal(user)
        group = self.settings.archivist_group
        p = Principal(user, sees_all=bool(group) and group in groups, admin="admin" in groups)
        with self._principals_lock:
            self._principals[user] = (t, p)
        return p

    # -- helpers used by flows and pages ----------------------------------------------------
    def meta_for(self, path: str, user: str):
        return flows.meta_for(self, path, user)

    def ensure_folder(self, path: str, user: str) -> None:
        """Create ``path`` (and its parents) in the DMS."""
        rel = path.strip("/")
        if not rel:
            return
        conn = self.dms.connector("/", user)
        try:
            conn.mkdirs(rel)
        finally:
            conn.close()

    def status_link(self, file_id: str = "") -> str:
        """Link to the status page: inside Nextcloud the embedded top-menu page, else ''."""
        if not self.settings.exapp:
            return ""
        base = f"{self.settings.nextcloud_url}/index.php/apps/app_api/embedded/{quote(self.settings.app_id)}/" \
               f"{NextcloudClient.TOP_MENU_NAME}"
        return f"{base}?fileIds={quote(str(file_id))}" if file_id else base

    def enable(self, user: str = "") -> str:
        """AppAPI enable hook: register the Files-menu action (required), the top-menu page and
        the webhooks (optional). Returns '' or the reason enabling must be refused."""
        from .appapi import NextcloudError

        if self.client is None:
            return ""
        try:
            self.client.register_file_action(user)
        except NextcloudError as exc:
            return f"注册文件菜单动作失败：{exc}"
        try:
            self.client.register_top_menu(user)
        except NextcloudError as exc:
            log.warning("top menu not registered: %s", exc)
        try:
            regex = handover_regex(self.settings.handover_folder)
            self.webhooks = self.client.register_webhooks(regex)
            self.webhook_error = ""
        except NextcloudError as exc:
            # Nextcloud < 30 has no webhook_listeners: the poller alone finds signed certificates.
            self.webhooks, self.webhook_error = [], str(exc)
            log.info("webhooks unavailable, polling only: %s", exc)
        return ""


def handover_regex(template: str) -> str:
    """A webhook_listeners ``eventFilter`` regex for PDFs arriving in handover folders; node
    paths look like ``/<uid>/files/<folder>/<file>.pdf`` (docs/nextcloud-integration.md §2.1)."""
    import re

    segments = [s for s in template.strip("/").split("/") if s]

    def seg(text: str) -> str:
        parts = re.split(r"(\{[a-z]+\})", text)
        return "".join(r"[^\/]+" if re.fullmatch(r"\{[a-z]+\}", p) else re.escape(p) for p in parts)

    if any("{" in s for s in segments):
        folder = r"(?:.*\/)?" + seg(segments[-1])  # variable location: match the folder's own name
    else:
        folder = r"\/".join(seg(s) for s in segments)
    return rf"/^\/[^\/]+\/files\/{folder}\/[^\/]+\.pdf$/i"
