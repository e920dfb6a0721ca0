"""Durable jobs: a table, a few worker threads, restart-resume and deduplication.

Every piece of slow work (assembling a draft, scanning for signed certificates, archiving)
is a row in ``jobs``. Handlers answer HTTP requests at once and queue work here; worker
threads claim rows one at a time (an UPDATE guarded by the status, so two workers never run
the same job, on SQLite and PostgreSQL alike). A job left ``running`` by a crashed process is
queued again when the service starts. The ``key`` column is unique: queueing the same work
twice (the same folder at the same etag, the same draft's archival) returns the existing job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .owner import Principal, scoped
from .store import dumps, jobs, loads, now

log = logging.getLogger("handover_dossier.app.records.jobs")

#: A job interrupted this many times (process killed while running it) is given up.
MAX_ATTEMPTS = 3


class JobFailed(Exception):
    """Raised by a handler: the job failed for a reason the user should read (Chinese)."""


@dataclass
class Job:
    id: int
    kind: str
    key: str
    status: str
    user: str
    title: str
    payload: dict[str, Any]
    progress: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    attempts: int = 0
    created: float = 0.0
    updated: float = 0.0
    started: float | None = None
    finished: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        m = row._mapping
        return cls(
            id=m["id"], kind=m["kind"], key=m["key"], status=m["status"], user=m["user"], title=m["title"],
            payload=loads(m["payload"]), progress=loads(m["progress"]), result=loads(m["result"]), error=m["error"],
            attempts=m["attempts"], created=m["created"], updated=m["updated"], started=m["started"],
            finished=m["finished"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "title": self.title,
            "progress": self.progress, "result": self.result, "error": self.error,
            "created": self.created, "started": self.started, "finished": self.finished,
            "file_id": self.payload.get("file_id", ""), "path": self.payload.get("path", ""),
        }


Handler = Callable[["JobContext"], dict[str, Any] | None]


class JobContext:
    """What a handler gets: the job and a throttled progress reporter."""

    def __init__(self, queue: JobQueue, job: Job) -> None:
        self.queue = queue
        self.job = job
        self._last = 0.0
        self._lock = threading.Lock()

    def progress(self, stage: str, done: int, total: int | None) -> None:
        """Record ``done``/``total`` for a stage; written at most ~5 times a second, always
        when a stage completes, so the status page sees it move."""
        with self._lock:
            self.job.progress[stage] = {"done": done, "total": total}
            self.job.progress["_stage"] = stage
            t = time.monotonic()
            if total is not None and done < total and t - self._last < 0.2:
                return
            self._last = t
            snapshot = dumps(self.job.progress)
        with self.queue.engine.begin() as c:
            c.execute(update(jobs).where(jobs.c.id == self.job.id).values(progress=snapshot, updated=now()))


class JobQueue:
    def __init__(self, engine: Engine, workers: int = 2) -> None:
        self.engine = engine
        self.n_workers = max(1, workers)
        self.handlers: dict[str, Handler] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.on_finished: Callable[[Job], None] | None = None
        #: Turns a failure's text into what users may read (the service removes server paths).
        self.public_text: Callable[[str], str] = lambda text: text

    # -- queueing --------------------------------------------------------------------
    def enqueue(self, kind: str, key: str, payload: dict[str, Any], *, user: str = "", title: str = "") -> tuple[Job, bool]:
        """Queue work; returns (job, created). Existing work with the same key is returned
        instead, unless it failed — then it is queued again."""
        t = now()
        try:
            with self.engine.begin() as c:
                c.execute(
                    jobs.insert().values(
                        kind=kind, key=key, status="queued", user=user, title=title, payload=dumps(payload),
                        progress="{}", result="{}", error="", attempts=0, created=t, updated=t,
                    )
                )
            created = True
        except IntegrityError:
            created = False
            with self.engine.begin() as c:
                res = c.execute(
                    update(jobs)
                    .where(jobs.c.key == key, jobs.c.status == "failed")
                    .values(status="queued", error="", progress="{}", attempts=0, payload=dumps(payload), updated=t,
                            user=user, title=title, started=None, finished=None)
                )
            created = res.rowcount == 1
        job = self.get_by_key(key)
        assert job is not None
        if created:
            self._wake.set()
        return job, created

    def get(self, job_id: int) -> Job | None:
        with self.engine.connect() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return Job.from_row(row) if row else None

    def get_for(self, job_id: int, viewer: Principal) -> Job | None:
        """The job, when ``viewer`` may see it (None otherwise: other users' jobs do not
        exist for them, so their ids reveal nothing)."""
        job = self.get(job_id)
        return job if job is not None and viewer.can_see(job.user) else None

    def get_by_key(self, key: str) -> Job | None:
        with self.engine.connect() as c:
            row = c.execute(select(jobs).where(jobs.c.key == key)).first()
        return Job.from_row(row) if row else None

    def list(self, *, viewer: Principal, ids: list[int] | None = None, file_ids: list[str] | None = None,
             limit: int = 50) -> list[Job]:
        """The newest jobs ``viewer`` may see (see :mod:`.owner`)."""
        q = scoped(select(jobs).order_by(jobs.c.id.desc()).limit(limit), jobs.c.user, viewer)
        if ids:
            q = q.where(jobs.c.id.in_(ids))
        with self.engine.connect() as c:
            rows = [Job.from_row(r) for r in c.execute(q)]
        if file_ids:
            wanted = {str(f) for f in file_ids}
            rows = [j for j in rows if str(j.payload.get("file_id", "")) in wanted]
        return rows

    # -- running ---------------------------------------------------------------------
    def recover(self) -> int:
        """Queue again the jobs a previous process left running (it died mid-job)."""
        with self.engine.begin() as c:
            res = c.execute(update(jobs).where(jobs.c.status == "running").values(status="queued", updated=now()))
        if res.rowcount:
            log.info("resuming %d interrupted job(s)", res.rowcount)
            self._wake.set()
        return res.rowcount or 0

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        self.recover()
        for i in range(self.n_workers):
            t = threading.Thread(target=self._loop, name=f"dossier-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _claim(self) -> Job | None:
        with self.engine.connect() as c:
            ids = [r[0] for r in c.execute(select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.id).limit(8))]
        for job_id in ids:
            with self.engine.begin() as c:
                res = c.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, jobs.c.status == "queued")
                    .values(status="running", started=now(), updated=now(), attempts=jobs.c.attempts + 1)
                )
            if res.rowcount == 1:
                return self.get(job_id)
        return None

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self._claim()
            if job is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            self.run(job)

    def run(self, job: Job) -> Job:
        """Run one claimed job to completion and record its outcome."""
        handler = self.handlers.get(job.kind)
        status, result, error = "done", {}, ""
        if job.attempts > MAX_ATTEMPTS:
            status, error = "failed", f"任务已中断 {job.attempts - 1} 次，不再自动重试"
        elif handler is None:
            status, error = "failed", f"未知的任务类型：{job.kind}"
        else:
            try:
                result = handler(JobContext(self, job)) or {}
            except JobFailed as exc:
                status, error = "failed", str(exc)
            except Exception as exc:  # a bug must not kill the worker; the user still sees a reason
                log.exception("job %s (%s) crashed", job.id, job.kind)
                status, error = "failed", f"内部错误（{type(exc).__name__}），详见服务日志"
        if error:
            error = self.public_text(error)
        with self.engine.begin() as c:
            c.execute(
                update(jobs)
                .where(jobs.c.id == job.id)
                .values(status=status, result=dumps(result), error=error, finished=now(), updated=now(),
                        progress=dumps(job.progress))
            )
        done = self.get(job.id)
        assert done is not None
        if self.on_finished is not None:
            try:
                self.on_finished(done)
            except Exception:  # notification trouble never fails a job
                log.exception("on_finished hook failed for job %s", job.id)
        return done

    def drain(self, timeout: float = 120.0) -> None:
        """Run queued jobs in the calling thread until none is left (CLI and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self._claim()
            if job is None:
                return
            self.run(job)
