"""A bundle job: what to assemble, and the function an RQ worker runs for it.

A job is a small JSON object (one line of a batch file)::

    {"source": "https://dms.example/remote.php/dav/files/archivist/交接/张三/",
     "output": "/srv/dossiers/张三.zip",
     "leader": "张三", "post": "局长", "unit": "云溪县交通运输局",
     "term_start": "2019-04-15", "term_end": "2024-06-30",
     "fonds": "Z107", "incoming": "李四", "only_term": false,
     "file_to": "https://dms.example/remote.php/dav/files/archivist/档案/"}

``source`` and ``output`` are required; ``output`` must be a path every worker can write
(a shared file system) -- ``file_to`` then files the bundle into a DMS as well. Sources
and destinations must not carry credentials: jobs are stored in Redis.

Whoever can write to Redis could otherwise choose what a worker reads (with the worker's
credentials), where it writes and where it files -- or name any importable function for RQ
to call. So every job carries an HMAC-SHA256 of what it asks (function, arguments, job id)
under a secret shared by ``dossier batch`` and the workers (``DOSSIER_QUEUE_SECRET``); a
worker runs only ``assemble_bundle`` and only with a valid HMAC (:func:`refusal`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Fields of :class:`~handover_dossier.bundle.assemble.BundleMeta` a job may set.
META_FIELDS = ("leader", "post", "unit", "term_start", "term_end", "fonds", "incoming", "lang", "compiler", "checker")


class JobSpecError(ValueError):
    """A job specification is unusable (message in Chinese)."""


#: The one function a worker runs.
JOB_FUNCTION = "handover_dossier.scale.jobs.assemble_bundle"
#: Shortest shared secret accepted.
MIN_SECRET = 16


def queue_secret() -> bytes:
    """The shared secret that signs and checks jobs (``DOSSIER_QUEUE_SECRET``)."""
    secret = os.environ.get("DOSSIER_QUEUE_SECRET", "")
    if len(secret) < MIN_SECRET:
        raise JobSpecError(f"未设置 DOSSIER_QUEUE_SECRET（至少 {MIN_SECRET} 个字符，batch 与所有工作进程相同）："
                           "队列中的任务须用它签名，工作进程只执行签名有效的任务")
    return secret.encode("utf-8")


def job_signature(secret: bytes, func: str, args: Any, kwargs: Any, job_id: str) -> str:
    """HMAC-SHA256 over everything a job makes a worker do."""
    msg = json.dumps({"func": func, "args": args, "kwargs": kwargs, "id": job_id}, ensure_ascii=False,
                     sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def refusal(job: Any, secret: bytes) -> str:
    """Why a worker must not run ``job`` ('' when it may): another function, or an HMAC that
    does not match (a job someone wrote into Redis without the secret, or changed)."""
    try:
        func, args, kwargs = job.func_name, list(job.args or ()), dict(job.kwargs or {})
    except Exception:
        return "任务内容无法读取"
    if func != JOB_FUNCTION:
        return f"拒绝执行：任务要调用的函数不是档案包任务（{func[:80]}）"
    given = str((job.meta or {}).get("hmac", ""))
    if not given or not hmac.compare_digest(given, job_signature(secret, func, args, kwargs, job.id)):
        return "拒绝执行：任务签名无效（不是用 DOSSIER_QUEUE_SECRET 签发的任务，或任务内容被改动）"
    return ""


@dataclass(frozen=True)
class BundleJob:
    source: str
    output: str
    leader: str = ""
    post: str = ""
    unit: str = ""
    term_start: str = ""
    term_end: str = ""
    fonds: str = ""
    incoming: str = ""
    lang: str = "zh-Hans"
    compiler: str = ""
    checker: str = ""
    only_term: bool = False
    file_to: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Path | None = None, where: str = "") -> BundleJob:
        """Validate one job; relative local paths are taken relative to ``base``."""
        at = f"{where}：" if where else ""
        if not isinstance(data, dict):
            raise JobSpecError(f"{at}每个任务应是一个 JSON 对象")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise JobSpecError(f"{at}未知的字段：{'、'.join(unknown)}")
        for key in ("source", "output"):
            if not str(data.get(key) or "").strip():
                raise JobSpecError(f"{at}缺少“{key}”")
        values = {k: (bool(v) if k == "only_term" else str(v).strip()) for k, v in data.items()}
        for key in ("source", "file_to"):
            value = values.get(key, "")
            if value and _has_credentials(value):
                raise JobSpecError(f"{at}“{key}”中不能包含用户名和密码（任务保存在 Redis 中）；"
                                   "请在各工作进程的环境变量 DOSSIER_USER/DOSSIER_PASSWORD 或 ~/.netrc 中配置")
        base = base or Path.cwd()
        for key in ("source", "output", "file_to"):
            value = values.get(key, "")
            if value and "://" not in value:
                values[key] = os.path.abspath(base / Path(value).expanduser())
        if not values["output"].lower().endswith(".zip"):
            raise JobSpecError(f"{at}“output”应为 .zip 文件：{values['output']}")
        return cls(**values)

    @property
    def job_id(self) -> str:
        """The same output is the same job: enqueuing it again never makes a second one."""
        return "dossier-" + hashlib.sha256(self.output.encode("utf-8")).hexdigest()[:32]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _has_credentials(location: str) -> bool:
    parts = urlsplit(location)
    return bool(parts.scheme in ("http", "https") and (parts.username or parts.password))


def assemble_bundle(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one bundle job (what a worker executes). Returns a JSON-able summary; raises
    on failure, so that RQ records it and retries it (the run resumes from the caches)."""
    from ..bundle.assemble import BundleMeta
    from ..pipeline import AssembleError, assemble
    from ..runtime.progress import CallbackProgress

    job = BundleJob(**spec)
    out = Path(job.output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from ..runtime.oserrors import os_error_reason

        raise AssembleError(f"无法创建输出目录：{os_error_reason(exc)}：{out.parent}") from exc
    meta = BundleMeta(**{k: getattr(job, k) for k in META_FIELDS})
    started = time.time()
    result = assemble(job.source, out, meta=meta, only_term=job.only_term, progress=CallbackProgress(_progress()))
    filed = None
    if job.file_to:
        from ..filing import file_bundle

        filed = file_bundle(out, job.file_to, source=job.source).__dict__
    summary = result.summary
    return {
        "bundle": str(out),
        "sha256": result.bundle.sha256,
        "size": result.bundle.size,
        "up_to_date": result.up_to_date,
        "documents": summary["documents"],
        "items": summary["items"],
        "exceptions": summary["exceptions"],
        "needs_review": summary["needs_review"],
        "archival_code": result.index["bundle"]["archival_code"],
        "stage_seconds": result.stage_seconds,
        "filed": filed,
        "worker": os.environ.get("RQ_WORKER_ID", ""),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "seconds": round(time.time() - started, 3),
    }


def _progress():
    """Progress callback that stores ``{stage: [done, total]}`` in the RQ job's meta
    (at most once a second), for ``dossier batch --wait`` and dashboards."""
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # not inside a worker
        job = None
    state: dict[str, list[int | None]] = {}
    last = [0.0]

    def report(stage: str, done: int, total: int | None) -> None:
        state[stage] = [done, total]
        now = time.monotonic()
        if job is not None and (now - last[0] >= 1.0 or (total is not None and done == total)):
            last[0] = now
            try:
                job.meta["progress"] = dict(state)
                job.save_meta()
            except Exception:  # progress is best effort; the job goes on
                pass

    return report
