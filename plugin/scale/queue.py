"""Put bundle jobs on the queue, and follow them (``dossier batch``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import QUEUE
from .jobs import JOB_FUNCTION, BundleJob, JobSpecError, job_signature, queue_secret

#: Job time limit (seconds): a bundle of tens of thousands of documents takes a while.
JOB_TIMEOUT = 6 * 3600
#: Runs of a job before it is given up: the first, and retries after a failure or after its
#: worker died (RQ requeues an abandoned job only while it has retries left).
RETRIES = 3
#: How long results and failures stay in Redis (seconds).
RESULT_TTL = 7 * 24 * 3600

_ACTIVE = ("queued", "started", "deferred", "scheduled")


def read_batch(path: str | Path) -> list[BundleJob]:
    """Jobs from a JSON Lines file (one object per line; blank and ``#`` lines skipped) or
    a JSON array. Relative local paths are taken relative to the file's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise JobSpecError(f"无法读取任务文件：{p}（{exc.strerror or exc}）") from None
    base = p.resolve().parent
    stripped = text.lstrip()
    rows: list[tuple[str, Any]] = []
    try:
        if stripped.startswith("["):
            rows = [(f"第 {i} 个任务", obj) for i, obj in enumerate(json.loads(text), 1)]
        else:
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    rows.append((f"第 {n} 行", json.loads(line)))
    except json.JSONDecodeError as exc:
        raise JobSpecError(f"任务文件不是有效的 JSON：{p}（第 {exc.lineno} 行）") from None
    jobs = [BundleJob.from_dict(obj, base, where) for where, obj in rows]
    if not jobs:
        raise JobSpecError(f"任务文件中没有任何任务：{p}")
    outputs: dict[str, int] = {}
    for i, job in enumerate(jobs, 1):
        if job.output in outputs:
            raise JobSpecError(f"第 {outputs[job.output]} 个和第 {i} 个任务写入同一个档案包：{job.output}")
        outputs[job.output] = i
    return jobs


@dataclass
class Enqueued:
    job: BundleJob
    id: str
    #: False when the same bundle was already queued or running (nothing was added).
    added: bool


def _queue(redis_url: str, name: str):
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    return Queue(name, connection=Redis.from_url(redis_url), serializer=JSONSerializer)


def enqueue(jobs: list[BundleJob], redis_url: str, queue: str = QUEUE, *, job_timeout: int = JOB_TIMEOUT,
            retries: int = RETRIES) -> list[Enqueued]:
    """Queue every job whose bundle is not already queued or being made, each signed with
    the shared secret (:func:`.jobs.queue_secret`; JobSpecError without one)."""
    from rq import Retry
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    secret = queue_secret()
    q = _queue(redis_url, queue)
    out = []
    for job in jobs:
        try:
            status = Job.fetch(job.job_id, connection=q.connection, serializer=q.serializer).get_status()
        except NoSuchJobError:
            status = None
        if status is not None and str(getattr(status, "value", status)) in _ACTIVE:
            out.append(Enqueued(job, job.job_id, False))
            continue
        args = [job.as_dict()]
        q.enqueue_call(JOB_FUNCTION, args=tuple(args), job_id=job.job_id,
                       timeout=job_timeout, result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL,
                       retry=Retry(max=retries) if retries else None, description=f"档案包 {job.output}",
                       meta={"hmac": job_signature(secret, JOB_FUNCTION, args, {}, job.job_id)})
        out.append(Enqueued(job, job.job_id, True))
    return out


@dataclass
class JobState:
    id: str
    status: str
    result: dict[str, Any] | None = None
    error: str = ""
    progress: dict[str, Any] = field(default_factory=dict)
    worker: str = ""


def states(ids: list[str], redis_url: str, queue: str = QUEUE) -> list[JobState]:
    from rq.job import Job

    q = _queue(redis_url, queue)
    found = Job.fetch_many(ids, connection=q.connection, serializer=q.serializer)
    out = []
    for job_id, job in zip(ids, found, strict=True):
        if job is None:
            out.append(JobState(job_id, "missing", error="任务已不在 Redis 中（可能已过期）"))
            continue
        status = str(getattr(job.get_status(), "value", job.get_status()))
        st = JobState(job_id, status, progress=dict(job.meta.get("progress") or {}), worker=job.worker_name or "")
        if status == "finished":
            st.result = job.return_value()
        elif status == "failed":
            st.error = _last_line(job.exc_info or "")
        out.append(st)
    return out


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else "未知错误"
    return last.split(": ", 1)[1] if ": " in last and last.split(": ", 1)[0].endswith(("Error", "Exception")) else last


def wait(ids: list[str], redis_url: str, queue: str = QUEUE, *, timeout: float | None = None, poll: float = 1.0,
         on_change: Callable[[list[JobState]], None] | None = None) -> list[JobState]:
    """Poll until every job is finished or failed (or ``timeout`` seconds passed)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last: tuple = ()
    while True:
        current = states(ids, redis_url, queue)
        key = tuple((s.status, json.dumps(s.progress, sort_keys=True)) for s in current)
        if on_change and key != last:
            on_change(current)
        last = key
        if all(s.status in ("finished", "failed", "missing", "canceled", "stopped") for s in current):
            return current
        if deadline is not None and time.monotonic() >= deadline:
            return current
        time.sleep(poll)
