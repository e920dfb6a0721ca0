"""The three entry points' work, as job handlers.

1. Files menu: ``assemble`` — pull the folder, run the pipeline with progress, write the draft
   bundle and its 交接书 next to the source folder (the handover folder), remember the draft.
2. Signed certificate: ``scan`` — look for signed copies of awaiting drafts' certificates (from
   a webhook or the poller), verify them with pyHanko; a good one queues ``archive`` (one job
   per draft, ever) — assemble the final bundle with the signed certificate, file it into the
   leader's dossier folder, tag it 已归档, record it in the registry, notify.
3. Retrieval is synchronous (:func:`~.registry.fetch_bundle`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import re
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..bundle.assemble import BundleMeta
from ..bundle.names import safe_component
from ..connectors import Connector, ConnectorError, Entry
from ..inventory import Inventory
from ..runtime.progress import CallbackProgress
from .config import Settings
from .dms import DMS, norm, split
from .records.cases import find_case_for, mark
from .records.jobs import Job, JobContext, JobFailed, JobQueue
from .records.notify import Notifier
from .records.store import drafts, dumps, loads, now, signed_checks


class FlowHost(Protocol):
    """What the flows need from the service that runs them.

    The service hands itself to every handler; the flows never import the service, so the
    dependency runs one way (service -> flows).
    """

    settings: Settings
    engine: Engine
    dms: DMS
    notifier: Notifier
    queue: JobQueue

    @property
    def inventory(self) -> Inventory: ...

    def ensure_folder(self, path: str, user: str) -> None: ...

    def status_link(self, file_id: str = "") -> str: ...

log = logging.getLogger("handover_dossier.app.flows")

FOLDER_MIME = "httpd/unix-directory"
SIGNED_DIR = "交接书（已签署）"
_NAME_TERM = re.compile(r"^(?P<leader>[^\d\-_—~ ]+?)[\-_— ]+(?P<start>(?:19|20)\d{2})\s*[\-—~至到]\s*(?P<end>(?:19|20)\d{2})$")


# -- a read-only view of a source folder ------------------------------------------------------
class SourceView(Connector):
    """The source folder as the pipeline should see it: without the handover folder when that
    lies inside it, plus (for the final bundle) the signed certificate as one more document,
    tagged ``交接:P2`` so that it is catalogued as 交接书 whatever the classifier thinks."""

    def __init__(self, base: Connector, *, exclude: str = "", extra: tuple[str, Path] | None = None) -> None:
        self.base = base
        self.exclude = exclude.strip("/")
        self.extra = extra
        self.display_url = base.display_url

    def walk(self) -> Iterator[Entry]:
        for e in self.base.walk():
            if self.exclude and (e.path == self.exclude or e.path.startswith(self.exclude + "/")):
                continue
            if self.extra and e.path == self.extra[0]:
                continue
            yield e
        if self.extra:
            path, local = self.extra
            data = local.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            yield Entry(path=path, size=len(data), id=f"signed-{digest[:16]}", etag=digest[:16],
                        tags=("交接:P2",), ref=str(local), content_type="application/pdf")

    def open(self, entry: Entry) -> AbstractContextManager[BinaryIO]:
        if self.extra and entry.path == self.extra[0]:
            return open(self.extra[1], "rb")
        return self.base.open(entry)

    def local_path(self, entry: Entry) -> Path | None:
        if self.extra and entry.path == self.extra[0]:
            return self.extra[1]
        return self.base.local_path(entry)

    def put(self, path: str, source: Path, *, overwrite: bool = True) -> Entry:
        raise ConnectorError("来源文件夹只读")

    def mkdirs(self, path: str) -> None:
        raise ConnectorError("来源文件夹只读")

    def close(self) -> None:
        self.base.close()


# -- helpers ------------------------------------------------------------------------------------
def parse_nodes(body: Any) -> list[dict[str, Any]]:
    """Files-menu payload -> nodes: ``{"files": [NodeInfo, ...]}`` (AppAPI on NC 28+, v2
    actions) or one bare NodeInfo (NC 27, ``appapi-exapp-received-file-action.json``)."""
    if isinstance(body, dict) and isinstance(body.get("files"), list):
        nodes = body["files"]
    elif isinstance(body, dict) and "fileId" in body:
        nodes = [body]
    else:
        raise ValueError("请求内容不是文件菜单动作的格式")
    out = []
    for n in nodes:
        if not isinstance(n, dict) or "name" not in n or "fileId" not in n:
            raise ValueError("文件菜单动作缺少 fileId 或 name")
        if not isinstance(n["name"], str) or not isinstance(n.get("directory", "/"), str) \
                or not isinstance(n["fileId"], int | str) or isinstance(n["fileId"], bool) \
                or not isinstance(n.get("etag", ""), str) or len(str(n["fileId"])) > 64:
            raise ValueError("文件菜单动作的字段类型不正确")
        out.append(n)
    return out


def node_path(node: dict[str, Any]) -> str:
    directory = str(node.get("directory") or "/")
    return norm(posixpath.join(directory, str(node["name"])))


def is_folder(node: dict[str, Any]) -> bool:
    return node.get("mime") == FOLDER_MIME or node.get("fileType") == "dir"


def folder_segment(value: str) -> str:
    """A name (leader, unit, post -- typed by a user or read from a document) as ONE folder
    name: a '/' in it never nests folders or climbs out of the dossier folder."""
    text = "".join(c for c in str(value) if c >= " " and c != "\x7f")
    text = text.replace("/", "／").replace("\\", "＼").strip()
    return "＿" if text in (".", "..") else text


def handover_path(settings: Any, source: str, meta: BundleMeta) -> str:
    parent, name = split(source)
    return norm(settings.handover_folder.format(parent=parent.rstrip("/"), name=name, leader=folder_segment(meta.leader),
                                                unit=folder_segment(meta.unit), post=folder_segment(meta.post)))


def dossier_path(settings: Any, source: str, meta: BundleMeta) -> str:
    parent, name = split(source)
    return norm(settings.dossier_folder.format(parent=parent.rstrip("/"), name=name,
                                               leader=folder_segment(meta.leader) or name,
                                               unit=folder_segment(meta.unit), post=folder_segment(meta.post)))


def relative_inside(child: str, parent: str) -> str:
    """``child`` relative to ``parent`` when it lies inside it, else ''."""
    c, p = norm(child), norm(parent)
    return c[len(p):].strip("/") if c.startswith(p.rstrip("/") + "/") else ""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


#: Largest signed 交接书 read (a few pages with signatures: well under a megabyte).
MAX_CERTIFICATE_BYTES = 64 << 20


def _download(conn: Connector, entry: Entry, dest: Path, limit: int = MAX_CERTIFICATE_BYTES) -> Path:
    """Copy a file out of the DMS, refusing more than ``limit`` bytes (whatever is listed)."""
    got = 0
    with conn.open(entry) as src, open(dest, "wb") as out:
        while chunk := src.read(1 << 20):
            got += len(chunk)
            if got > limit:
                raise JobFailed(f"文件过大（超过 {limit >> 20} MB），不予处理：{entry.name}")
            out.write(chunk)
    return dest


def check_signed(svc: FlowHost, pdf: Path, draft_sha256: str) -> Any:
    """:func:`.signing.check.check_certificate` of a signed copy from the DMS, for the draft
    with ``draft_sha256``, run in a capped worker process (a crafted PDF costs at most the
    cap and the time limit, and is refused)."""
    from functools import partial

    from ..runtime.sandbox import CappedWorker, Overrun
    from .signing.check import CertificateCheck, check_certificate

    call = partial(check_certificate, pdf, svc.settings.roles, trust_root=svc.settings.trust_root,
                   match=svc.settings.signer_match, draft_sha256=draft_sha256)
    try:
        with CappedWorker(timeout=120.0) as worker:
            return worker.call(call)
    except Overrun as exc:
        return CertificateCheck(ok=False, reasons=[f"检查签名时{exc.reason}"], signatures=[])


def content_digest(index: dict[str, Any]) -> str:
    """SHA-256 over the catalogue's documents (source and content digest of each item),
    leaving out the signed 交接书 the final bundle adds."""
    rows = sorted(f"{it.get('source', '')}\t{it.get('sha256', '')}" for it in index.get("items", [])
                  if not str(it.get("source", "")).startswith(SIGNED_DIR + "/"))
    return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()


def draft_names(conn: Connector, name: str) -> tuple[str, str]:
    """Names for a new draft bundle and its 交接书 that nothing in the handover folder has
    yet: ``<name>-档案包草稿.zip`` / ``<name>-交接书.pdf`` the first time, then
    ``（第2版）``, ``（第3版）``… A draft out for signature, its certificate and every signed
    copy of it (``<stem>.signed_42.pdf``) are never overwritten by a re-run."""
    taken = {e.name for e in conn.walk() if "/" not in e.path}
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"（第{n}版）"
        draft = safe_component(f"{name}-档案包草稿{suffix}.zip", fallback=f"档案包草稿{suffix}.zip")
        cert = safe_component(f"{name}-交接书{suffix}.pdf", fallback=f"交接书{suffix}.pdf")
        stem = cert[:-4]
        if draft not in taken and not any(t == cert or t.startswith(stem + ".") for t in taken):
            return draft, cert
    raise JobFailed("交接文件夹中的草稿版本过多，请清理后重试")


# -- 1. Files menu --------------------------------------------------------------------------------
def _assemble_from(svc: FlowHost, ctx: JobContext, src: SourceView, out: Path, meta: BundleMeta) -> Any:
    """Run the pipeline for a job (progress to the job table), closing ``src``; a bundle
    that cannot be made fails the job with the pipeline's Chinese reason."""
    from ..pipeline import AssembleError, assemble

    try:
        return assemble(src, out, meta=meta, inventory=svc.inventory, progress=CallbackProgress(ctx.progress), workers=1)
    except AssembleError as exc:
        raise JobFailed(str(exc)) from None
    finally:
        src.close()


def enqueue_assemble(svc: FlowHost, node: dict[str, Any], user: str) -> tuple[Job, bool]:
    path = node_path(node)
    file_id = str(node.get("fileId", ""))
    etag = str(node.get("etag", "")).strip('"')
    payload = {"path": path, "file_id": file_id, "etag": etag, "name": str(node["name"])}
    job, created = svc.queue.enqueue("assemble", f"assemble:{user}:{file_id}:{etag}", payload, user=user,
                                     title=f"生成交接档案包：{path}")
    if created:
        svc.notifier.notify(user, "queued", f"已开始生成交接档案包：{node['name']}",
                            "任务已排队，可在“交接档案”进度页面查看进度。", link=svc.status_link(file_id),
                            object_id=f"job-{job.id}-queued")
    return job, created


def assemble_job(svc: FlowHost, ctx: JobContext) -> dict[str, Any]:
    from .signing.certificate import info_from_index, render_certificate

    job = ctx.job
    path = norm(job.payload["path"])
    _parent, name = split(path)
    meta, case = meta_for(svc, path, job.user)
    hpath = handover_path(svc.settings, path, meta)
    work = svc.settings.work_dir / f"job-{job.id}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        src = SourceView(svc.dms.connector(path, job.user), exclude=relative_inside(hpath, path))
        draft = work / "draft.zip"
        result = _assemble_from(svc, ctx, src, draft, meta)
        draft_sha = _sha256(draft)
        ctx.progress("file", 0, 2)
        try:
            svc.ensure_folder(hpath, job.user)
            hconn = svc.dms.connector(hpath, job.user)
            try:
                # A draft out for signature is never overwritten: a re-run gets the next version.
                draft_name, cert_name = draft_names(hconn, name)
                cert = render_certificate(info_from_index(result.index, draft_name, draft_sha, marker=f"job-{job.id}"),
                                          svc.settings.roles, work / "cert.pdf")
                hconn.put(draft_name, draft, overwrite=False)
                ctx.progress("file", 1, 2)
                cert_entry = hconn.put(cert_name, cert, overwrite=False)
                ctx.progress("file", 2, 2)
            finally:
                hconn.close()
        except ConnectorError as exc:
            raise JobFailed(f"写入交接文件夹失败：{exc}") from None
        summary = result.index["summary"]
        with svc.engine.begin() as c:
            c.execute(update(drafts).where(drafts.c.user == job.user, drafts.c.source_path == path,
                                           drafts.c.status.in_(("awaiting", "confirm"))).values(status="superseded"))
            draft_id = c.execute(drafts.insert().values(
                job_id=job.id, user=job.user, source_path=path, source_id=job.payload.get("file_id", ""),
                source_etag=job.payload.get("etag", ""), handover_path=hpath, draft_name=draft_name,
                draft_sha256=draft_sha, content_digest=content_digest(result.index), cert_name=cert_name,
                cert_key=cert_entry.key, cert_etag=cert_entry.etag, meta=dumps(meta.__dict__),
                archival_code=result.index["bundle"]["archival_code"], status="awaiting",
                case_id=case.id if case else None, created=now(),
            )).inserted_primary_key[0]
        if case is not None:
            mark(svc.engine, case.id, draft_at=now())
        return {
            "draft_id": int(draft_id), "handover_path": hpath, "draft_name": draft_name, "cert_name": cert_name,
            "archival_code": result.index["bundle"]["archival_code"], "sha256": draft_sha,
            "items": summary["items"], "exceptions": summary["exceptions"], "needs_review": summary["needs_review"],
            "documents": summary["documents"], "missing": result.index["missing"],
            "leader": meta.leader, "name": name,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- 2. Signed certificates -------------------------------------------------------------------
def enqueue_scan(svc: FlowHost, key: str, paths: list[str] | None = None, reason: str = "poll") -> tuple[Job, bool]:
    return svc.queue.enqueue("scan", key, {"paths": paths or [], "reason": reason}, title="检查已签署的交接书")


def _awaiting(svc: FlowHost) -> list[dict[str, Any]]:
    with svc.engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(drafts).where(drafts.c.status == "awaiting").order_by(drafts.c.id))]


def _claim_check(svc: FlowHost, draft_id: int, entry: Entry) -> int | None:
    """Record that (draft, file, etag) is being checked; None when it was checked before."""
    try:
        with svc.engine.begin() as c:
            return int(c.execute(signed_checks.insert().values(
                draft_id=draft_id, file_key=entry.key, etag=entry.etag, name=entry.name, ok=False, result="{}",
                created=now())).inserted_primary_key[0])
    except IntegrityError:
        with svc.engine.connect() as c:
            row = c.execute(select(signed_checks).where(
                signed_checks.c.draft_id == draft_id, signed_checks.c.file_key == entry.key,
                signed_checks.c.etag == entry.etag)).first()
        # An unfinished check (the process died during it) is done again.
        return int(row.id) if row is not None and row.result == "{}" else None


def scan_job(svc: FlowHost, ctx: JobContext) -> dict[str, Any]:
    paths = [norm(p) for p in ctx.job.payload.get("paths") or [] if p]
    checked, queued, rejected, awaiting_confirmation = 0, [], [], []
    work = svc.settings.work_dir / f"scan-{ctx.job.id}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        for d in _awaiting(svc):
            if paths and not any(p == d["handover_path"] or p.startswith(d["handover_path"] + "/") for p in paths):
                continue
            stem = d["cert_name"][:-4] if d["cert_name"].lower().endswith(".pdf") else d["cert_name"]
            try:
                conn = svc.dms.connector(d["handover_path"], d["user"])
            except ConnectorError as exc:
                log.warning("cannot open handover folder of draft %s: %s", d["id"], exc)
                continue
            try:
                try:
                    entries = [e for e in conn.walk() if "/" not in e.path and e.name.lower().endswith(".pdf")
                               and e.name.startswith(stem) and not e.problem]
                except ConnectorError as exc:
                    log.warning("cannot list handover folder of draft %s: %s", d["id"], exc)
                    continue
                for e in entries:
                    if (e.key, e.etag) == (d["cert_key"], d["cert_etag"]):
                        continue  # our own unsigned certificate, untouched
                    check_id = _claim_check(svc, d["id"], e)
                    if check_id is None:
                        continue
                    try:
                        local = _download(conn, e, work / f"{check_id}.pdf")
                    except JobFailed as exc:
                        from .signing.check import CertificateCheck

                        res = CertificateCheck(ok=False, reasons=[str(exc)], signatures=[])
                    else:
                        res = check_signed(svc, local, d["draft_sha256"])
                    checked += 1
                    with svc.engine.begin() as c:
                        c.execute(update(signed_checks).where(signed_checks.c.id == check_id)
                                  .values(ok=res.ok, result=dumps(res.as_json())))
                    if res.needs_confirmation:
                        # Valid signatures, but nobody vouches for who signed: an archivist decides.
                        with svc.engine.begin() as c:
                            c.execute(update(drafts).where(drafts.c.id == d["id"], drafts.c.status == "awaiting")
                                      .values(status="confirm", confirm_check_id=check_id))
                        awaiting_confirmation.append(e.name)
                        signers = "、".join(s.signer for s in res.signatures if s.ok)
                        svc.notifier.notify(d["user"], "sign-unverified", f"交接书签名有效但签署人身份未核验：{e.name}",
                                            f"签署人：{signers}。未配置可信根证书，无法核实签署人身份；"
                                            "须由档案管理员在“交接档案”页面确认后才归档。",
                                            link=svc.status_link(), object_id=f"check-{check_id}")
                        break
                    if res.ok:
                        job, _ = svc.queue.enqueue("archive", f"archive:{d['id']}", {
                            "draft_id": d["id"], "cert_path": e.path, "cert_key": e.key, "cert_etag": e.etag,
                        }, user=d["user"], title=f"归档交接档案包：{d['source_path']}")
                        queued.append(job.id)
                    elif not res.unsigned:
                        rejected.append(e.name)
                        svc.notifier.notify(d["user"], "sign-invalid", f"交接书签署未完成或无效，暂不归档：{e.name}",
                                            res.reason, link=svc.dms.link(d["handover_path"]),
                                            object_id=f"check-{check_id}")
            finally:
                conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"checked": checked, "archive_jobs": queued, "rejected": rejected, "to_confirm": awaiting_confirmation}


def archive_job(svc: FlowHost, ctx: JobContext) -> dict[str, Any]:
    from ..filing import ARCHIVED_TAG, FilingError, file_bundle
    from .records.registry import Filed, record_bundle

    p = ctx.job.payload
    with svc.engine.connect() as c:
        row = c.execute(select(drafts).where(drafts.c.id == p["draft_id"])).first()
    if row is None:
        raise JobFailed("找不到对应的档案包草稿记录")
    d = dict(row._mapping)
    if d["status"] == "archived":
        return {"skipped": True, "bundle_id": d["bundle_id"]}
    if d["status"] not in ("awaiting", "confirm"):
        raise JobFailed("该草稿已被新版本取代，未归档；请签署新版交接书")
    meta = BundleMeta(**loads(d["meta"]))
    work = svc.settings.work_dir / f"job-{ctx.job.id}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        # Re-read and re-verify the signed certificate: it may have changed since the scan.
        hconn = svc.dms.connector(d["handover_path"], d["user"])
        try:
            entry = hconn.stat(p["cert_path"])
            if entry is None:
                raise JobFailed(f"签署后的交接书已不存在：{p['cert_path']}")
            signed = _download(hconn, entry, work / safe_component(entry.name, fallback="交接书.pdf"))
        except ConnectorError as exc:
            raise JobFailed(f"读取签署后的交接书失败：{exc}") from None
        finally:
            hconn.close()
        check = check_signed(svc, signed, d["draft_sha256"])
        if not check.ok and not (check.needs_confirmation and d["confirmed_by"]):
            raise JobFailed(f"交接书签名校验未通过，未归档：{check.reason}")
        src = SourceView(svc.dms.connector(d["source_path"], d["user"]),
                         exclude=relative_inside(d["handover_path"], d["source_path"]),
                         extra=(f"{SIGNED_DIR}/{signed.name}", signed))
        final = work / "final.zip"
        result = _assemble_from(svc, ctx, src, final, meta)
        if d["content_digest"] and content_digest(result.index) != d["content_digest"]:
            # The signers certified the draft's documents; these are not the same any more.
            raise JobFailed("来源文件夹中的材料在生成草稿后有改动，与各方签署的交接书不符，未归档；"
                            "请重新生成档案包草稿并签署")
        code = result.index["bundle"]["archival_code"]
        dpath = dossier_path(svc.settings, d["source_path"], meta)
        bundle_name = safe_component(f"{meta.leader or split(d['source_path'])[1]}-离任交接档案-{code}.zip",
                                     fallback="离任交接档案.zip")
        ctx.progress("file", 0, 1)
        try:
            svc.ensure_folder(dpath, d["user"])
            dconn = svc.dms.connector(dpath, d["user"])
            try:
                filed = file_bundle(final, dconn, name=bundle_name, tag=ARCHIVED_TAG)
            finally:
                dconn.close()
        except (FilingError, ConnectorError) as exc:
            raise JobFailed(str(exc)) from None
        ctx.progress("file", 1, 1)
        source_tagged = False
        try:
            sconn = svc.dms.connector(d["source_path"], d["user"])
            try:
                source_tagged = sconn.tag("", ARCHIVED_TAG)
            finally:
                sconn.close()
        except Exception as exc:  # best effort: the bundle is filed already, record it whatever happens
            log.warning("source folder not tagged: %s", exc)
        bundle_id = record_bundle(svc.engine, result.index,
                                  Filed(svc.dms.kind, d["user"], dpath, filed.name, _sha256(final), final.stat().st_size),
                                  draft_id=d["id"], signatures={**check.as_json(), "confirmed_by": d["confirmed_by"]})
        with svc.engine.begin() as c:
            c.execute(update(drafts).where(drafts.c.id == d["id"]).values(status="archived", archived_at=now(),
                                                                             bundle_id=bundle_id))
        if d["case_id"]:
            mark(svc.engine, d["case_id"], filed_at=now(), status="closed")
        return {"archival_code": code, "folder": dpath, "name": filed.name, "bundle_id": bundle_id,
                "warnings": filed.warnings,
                "tagged": filed.tagged, "source_tagged": source_tagged, "skipped_upload": filed.skipped,
                "leader": meta.leader, "items": result.index["summary"]["items"],
                "signers": [s.signer for s in check.signatures]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


class ConfirmError(Exception):
    """A confirmation cannot be made (message in Chinese); ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def drafts_for(svc: FlowHost, viewer: Any, statuses: tuple[str, ...] = ("awaiting", "confirm")) -> list[dict[str, Any]]:
    """Drafts ``viewer`` may see, newest first, with the signed check that waits for
    confirmation (signers, reasons)."""
    from .records.owner import scoped

    q = scoped(select(drafts).where(drafts.c.status.in_(statuses)).order_by(drafts.c.id.desc()).limit(100),
               drafts.c.user, viewer)
    out = []
    with svc.engine.connect() as c:
        for r in c.execute(q):
            d = dict(r._mapping)
            check = None
            if d["confirm_check_id"]:
                row = c.execute(select(signed_checks).where(signed_checks.c.id == d["confirm_check_id"])).first()
                check = loads(row.result) if row is not None else None
            out.append({k: d[k] for k in ("id", "user", "source_path", "handover_path", "draft_name", "cert_name",
                                          "draft_sha256", "archival_code", "status", "created", "confirmed_by")}
                       | {"signers": [s["signer"] for s in (check or {}).get("signatures", []) if s.get("ok")],
                          "signed_name": (check or {}).get("name", "")})
    return out


def confirm_draft(svc: FlowHost, draft_id: int, who: Any) -> Job:
    """An archivist's explicit confirmation of a validly signed 交接书 whose signers' identity
    could not be verified (no trust root): the archival it held back is queued.

    Only members of the archivist group (or administrators; standalone: the operator) may
    confirm, never the draft's owner alone. The archive job then runs exactly as it would
    have run without the hold -- as the draft's owner, for the owner's folders: confirming
    does not make the app act as the archivist."""
    if not (who.sees_all or who.admin):
        raise ConfirmError("只有档案管理员可以确认签署人身份", 403)
    with svc.engine.connect() as c:
        row = c.execute(select(drafts).where(drafts.c.id == draft_id)).first()
        check = c.execute(select(signed_checks).where(signed_checks.c.id == row.confirm_check_id)).first() \
            if row is not None and row.confirm_check_id else None
    if row is None:
        raise ConfirmError("没有这个档案包草稿", 404)
    if row.status != "confirm" or check is None:
        raise ConfirmError("该草稿没有等待确认的签署", 409)
    with svc.engine.begin() as c:
        done = c.execute(update(drafts).where(drafts.c.id == draft_id, drafts.c.status == "confirm")
                         .values(confirmed_by=who.user or "本机用户", confirmed_at=now())).rowcount
    if not done:
        raise ConfirmError("该草稿没有等待确认的签署", 409)
    job, _ = svc.queue.enqueue("archive", f"archive:{draft_id}", {
        "draft_id": draft_id, "cert_path": check.name, "cert_key": check.file_key, "cert_etag": check.etag,
    }, user=row.user, title=f"归档交接档案包：{row.source_path}")
    svc.notifier.notify(row.user, "sign-confirmed", f"档案管理员已确认签署人身份：{check.name}",
                        f"{who.user or '档案管理员'} 已确认交接书的签署，开始归档。", link=svc.status_link(),
                        object_id=f"confirm-{draft_id}")
    return job


# -- notifications when a job ends ------------------------------------------------------------
def on_finished(svc: FlowHost, job: Job) -> None:
    r = job.result
    if job.kind == "assemble":
        name = job.payload.get("name") or job.payload.get("path", "")
        if job.status == "done":
            miss = len(r.get("missing", []))
            svc.notifier.notify(
                job.user, "done", f"交接档案包草稿已生成：{name}",
                f"共 {r.get('documents', 0)} 份文件：收入 {r.get('items', 0)} 件，未能收入 {r.get('exceptions', 0)} 件，"
                f"缺少 {miss} 个类目。请各方在“{r.get('handover_path', '')}”中签署《{r.get('cert_name', '交接书')}》，"
                "签署完成后系统自动归档。",
                link=svc.dms.link(r.get("handover_path", "")) or svc.status_link(job.payload.get("file_id", "")),
                object_id=f"job-{job.id}-done")
        else:
            svc.notifier.notify(job.user, "failed", f"生成交接档案包失败：{name}", job.error,
                                link=svc.status_link(job.payload.get("file_id", "")), object_id=f"job-{job.id}-failed")
    elif job.kind == "archive":
        if job.status == "done" and not r.get("skipped"):
            svc.notifier.notify(
                job.user, "archived", f"交接档案包已归档：{r.get('leader', '')}",
                f"档号 {r.get('archival_code', '')}，已归档到“{r.get('folder', '')}”（{r.get('name', '')}），"
                "并标记“已归档”。" + "".join(f"注意：{w}" for w in r.get("warnings") or []),
                link=svc.dms.link(r.get("folder", "")), object_id=f"job-{job.id}-archived")
        elif job.status == "failed":
            svc.notifier.notify(job.user, "failed", "交接档案包自动归档失败", job.error,
                                object_id=f"job-{job.id}-failed")


def local_folder_etag(root: Path) -> str:
    """A folder "etag" for local folders: changes whenever a file below is added, removed,
    renamed or modified (Nextcloud gives one; the local DMS has to compute it)."""
    h = hashlib.sha1()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            p = Path(dirpath) / f
            try:
                st = p.lstat()
            except OSError:
                continue
            h.update(f"{p.relative_to(root).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


def meta_from_name(name: str) -> BundleMeta:
    """"张三-2019-2024" -> leader 张三, term 2019-01-01 – 2024-12-31 (the years named, whole);
    anything else -> leader = folder name. Exact dates come from a handover case."""
    m = _NAME_TERM.match(name.strip())
    if m:
        return BundleMeta(leader=m["leader"], term_start=f"{m['start']}-01-01", term_end=f"{m['end']}-12-31")
    return BundleMeta(leader=name.strip())


def meta_for(svc: FlowHost, path: str, user: str) -> tuple[BundleMeta, Any]:
    """The bundle's metadata for ``user``'s folder ``path``: from the user's own handover
    case for it when there is one, else from the folder name."""
    _parent, name = split(path)
    case = find_case_for(svc.engine, path, user)
    if case is not None:
        meta = BundleMeta(leader=case.leader, post=case.post, unit=case.unit, term_start=case.term_start,
                          term_end=case.term_end, incoming=case.incoming, fonds=svc.settings.fonds)
        if not (meta.term_start or meta.term_end):
            guess = meta_from_name(name)
            meta.term_start, meta.term_end = guess.term_start, guess.term_end
        return meta, case
    meta = meta_from_name(name)
    meta.fonds = svc.settings.fonds
    return meta, None
