"""Scale-out: many bundles at once, on worker processes across machines, through RQ on Redis.

Handover season (换届) means hundreds of bundles in the same two weeks. Each bundle is one
job; any number of ``dossier worker --redis URL`` processes, on any number of machines,
take jobs from a Redis queue and run the ordinary pipeline on them (each using every core
of its machine for extraction). ``dossier batch JOBS.jsonl --redis URL`` puts the jobs in.
The embedded default -- ``dossier assemble`` -- stays in-process with no broker.

Why RQ (and not Celery): a job is a plain function and Redis is the only moving part;
RQ's worker forks a fresh process per job, whose children may themselves be processes
(our extraction pool) -- Celery's prefork pool runs tasks in daemonic processes, which
may not have children. And the guarantee we need when a machine dies mid-job is one RQ
states and implements in a few lines: the worker refreshes a heartbeat on the job while
it runs; a job whose heartbeat expires is *abandoned*, and the next registry maintenance
of any live worker requeues it when it has retries left (``StartedJobRegistry.cleanup``,
RQ >= 2). With Celery on Redis the same needs ``acks_late``, ``reject_on_worker_lost`` and a
visibility timeout, and redelivery of a dead worker's unacknowledged message waits for
that timeout (an hour by default) and for a consumer to restore it.

Jobs are idempotent, so running one twice is harmless: the bundle is written under a
temporary name and renamed into its final place (never two files, never a half one);
with ``SOURCE_DATE_EPOCH`` a re-run writes the same bytes; a run whose inputs did not
change keeps the bundle ("已是最新"); filing skips a bundle already filed. Jobs travel as
JSON (RQ's JSON serializer: nothing in Redis is ever unpickled) and never carry
credentials: workers take them from their own environment or ``~/.netrc``.

Modules: :mod:`.jobs` (the job specification and the function a worker runs),
:mod:`.worker` (the RQ worker), :mod:`.queue` (enqueue a batch, wait for it), :mod:`.cli`
(``dossier worker`` and ``dossier batch``).
"""

from __future__ import annotations

#: Default queue name.
QUEUE = "dossier"

__all__ = ["QUEUE"]
