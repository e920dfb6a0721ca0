"""The RQ worker that runs bundle jobs (``dossier worker --redis URL``).

An ordinary RQ worker (one job at a time, each in a forked "work horse" process) with
three choices made for bundle jobs:

- the pipeline, the readers and the classifier's model are loaded once in the worker, so
  every forked job starts with them in memory instead of importing and loading again;
- the job time limit is enforced with RQ's timer-based death penalty, which leaves
  ``SIGALRM`` to the pipeline (it times out a hung document read with it);
- how long a silent job is given before it counts as abandoned is configurable
  (``abandoned_after``). RQ refreshes a job's heartbeat every ``job_monitoring_interval``
  seconds and treats a job whose heartbeat is older than that interval plus a grace of
  60 s as abandoned -- its worker died with it. The next registry maintenance of any
  live worker (every ``maintenance_interval`` seconds) then requeues the job, which has
  retries left (see :mod:`.queue`), and another worker runs it again.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import Queue, Worker
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty

from . import QUEUE


class JobRefused(Exception):
    """A job the worker will not run (another function, or no valid HMAC)."""


class DossierWorker(Worker):
    """RQ worker for bundle jobs (see the module docstring)."""

    death_penalty_class = TimerDeathPenalty
    #: Seconds after the last heartbeat before a running job counts as abandoned.
    abandoned_after: int = 60
    #: DOSSIER_QUEUE_SECRET: only jobs signed with it are run.
    queue_secret: bytes = b""

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        """Check the job before anything of it runs (:func:`.jobs.refusal`); a refused job
        fails with the reason and nothing it names is imported or called."""
        from .jobs import refusal

        reason = refusal(job, self.queue_secret) if self.queue_secret else "工作进程未配置 DOSSIER_QUEUE_SECRET"
        if reason:
            import sys

            try:
                raise JobRefused(reason)
            except JobRefused:
                self._finalize_failure(job, queue, execution, sys.exc_info())
            return False
        return super().perform_job(job, queue, execution)

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - working_time
            return int(min(remaining, self.job_monitoring_interval)) + self.abandoned_after
        return int(self.job_monitoring_interval) + self.abandoned_after


def preload() -> None:
    """Import the pipeline and load the default classifier model before forking jobs."""
    from ..classify import Classifier
    from ..transfer.extractcache import extractor_version
    from . import jobs  # noqa: F401 - loaded so that forked jobs inherit it

    _ = Classifier().model
    extractor_version()


def run_worker(
    redis_url: str,
    queues: list[str] | None = None,
    *,
    name: str | None = None,
    burst: bool = False,
    job_monitoring_interval: int = 10,
    abandoned_after: int = 60,
    maintenance_interval: int = 60,
    worker_ttl: int = 90,
    logging_level: str = "WARNING",
) -> bool:
    """Work on ``queues`` until stopped (or, ``burst``, until they are empty)."""
    from redis import Redis

    from .jobs import queue_secret

    secret = queue_secret()  # JobSpecError: a worker without the secret does not start
    connection = Redis.from_url(redis_url)
    preload()
    qs = [Queue(q, connection=connection, serializer=JSONSerializer) for q in (queues or [QUEUE])]
    worker = DossierWorker(qs, name=name, connection=connection, serializer=JSONSerializer,
                           job_monitoring_interval=job_monitoring_interval, maintenance_interval=maintenance_interval,
                           worker_ttl=worker_ttl)
    worker.abandoned_after = abandoned_after
    worker.queue_secret = secret
    logging.getLogger("rq.worker").setLevel(logging_level)
    return worker.work(burst=burst, logging_level=logging_level)
