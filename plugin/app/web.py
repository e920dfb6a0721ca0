"""The HTTP side: AppAPI lifecycle endpoints, the JSON API, and the Chinese web pages.

Every request is authenticated with the AppAPI headers in ExApp mode (401 otherwise) except
``GET /heartbeat``, which AppAPI sends without them. Pages are server-rendered (Jinja2) with
relative links only, so they work both behind AppAPI's proxy
(``/index.php/apps/app_api/proxy/<appid>/...``) and standalone. ``?lang=zh-Hant`` renders
Traditional Chinese; Simplified is the default.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ..connectors import ConnectorError
from ..lang.i18n import normalize_lang, ui
from . import flows
from .appapi import UNAUTHENTICATED, AuthError, check_request
from .dms import LocalDMS
from .guard import Guard
from .records import cases as case_mod
from .records import registry
from .records.owner import Principal
from .service import Service

log = logging.getLogger("handover_dossier.app.web")
TEMPLATES = Path(__file__).with_name("templates")
STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}
KIND_LABELS = {"assemble": "生成档案包草稿", "scan": "检查签署", "archive": "自动归档"}


class AppAPIAuth:
    """ASGI middleware: AppAPI header check on everything but the heartbeat (ExApp mode)."""

    def __init__(self, app: Any, svc: Service) -> None:
        self.app = app
        self.svc = svc

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        if not self.svc.settings.exapp:
            # the standalone login's user (set by the guard), else the local operator
            scope["state"]["user"] = scope["state"].get("user") or self.svc.settings.local_user
            await self.app(scope, receive, send)
            return
        if (scope["method"], scope["path"]) in UNAUTHENTICATED:
            scope["state"]["user"] = ""
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").upper(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            scope["state"]["user"] = check_request(headers, self.svc.settings)
        except AuthError as exc:
            log.warning("refused %s %s: %s", scope["method"], scope["path"], exc)
            body = json.dumps({"error": f"未通过 AppAPI 认证：{exc}"}, ensure_ascii=False).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _lang(request: Request) -> str:
    return normalize_lang(request.query_params.get("lang"))


def _user(request: Request) -> str:
    return getattr(request.state, "user", "") or ""


#: Largest id a database integer column holds: bigger numbers are "not found", not a crash.
MAX_ID = (1 << 63) - 1


def _id(value: str) -> int | None:
    """A record id from a request, or None when it is not one (huge, negative, text)."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    n = int(value)
    return n if 0 < n <= MAX_ID else None


def _json(data: Any, status: int = 200, lang: str = "zh-Hans") -> JSONResponse:
    if lang == "zh-Hant":
        data = json.loads(ui(json.dumps(data, ensure_ascii=False), lang))
    return JSONResponse(data, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form (our pages post nothing else; no multipart dependency needed)."""
    from urllib.parse import parse_qs

    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _ts(value: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(value)) if value else ""


def create_app(svc: Service, *, manage_lifecycle: bool = True, bind_host: str = "") -> FastAPI:
    """The FastAPI app. With ``manage_lifecycle`` the service's workers and poller start and
    stop with the server. ``bind_host``: the address the server listens on (a standalone
    server also answers to that name, see :mod:`.guard`)."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if manage_lifecycle:
            svc.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                svc.stop()

    app = FastAPI(title="handover-dossier", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters["ts"] = _ts
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.globals.update(STATUS_LABELS=STATUS_LABELS, KIND_LABELS=KIND_LABELS)

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = _lang(request)
        suffix = "lang=zh-Hant" if lang == "zh-Hant" else ""
        html = env.get_template(name).render(
            lang=lang, lang_q=suffix, amp_lang=("&" + suffix) if suffix else "", user=_user(request),
            standalone=not svc.settings.exapp, csrf=getattr(request.state, "csrf", ""), **ctx)
        return HTMLResponse(ui(html, lang) if lang == "zh-Hant" else html, status_code=status)

    # -- lifecycle (AppAPI) --------------------------------------------------------------
    @app.get("/heartbeat")
    def heartbeat() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.post("/init")
    def init() -> JSONResponse:
        # Storage is ready once the service exists; report 100 % asynchronously, as AppAPI
        # expects (docs/nextcloud-integration.md §1.2).
        def report() -> None:
            if svc.client is not None:
                try:
                    svc.client.set_init_status(100)
                except Exception as exc:
                    log.warning("init status not reported: %s", exc)

        threading.Thread(target=report, daemon=True).start()
        return JSONResponse({})

    @app.put("/enabled")
    def enabled(request: Request, enabled: int = 1) -> JSONResponse:
        if enabled:
            return JSONResponse({"error": svc.enable(_user(request))})
        return JSONResponse({"error": ""})

    # -- 1. Files menu --------------------------------------------------------------------
    @app.post("/api/v1/files-action")
    async def files_action(request: Request) -> JSONResponse:
        lang = _lang(request)
        try:
            nodes = flows.parse_nodes(await request.json())
        except (ValueError, json.JSONDecodeError) as exc:
            return _json({"error": str(exc) if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError)
                          else "请求内容不是 JSON"}, 400, lang)
        folders = [n for n in nodes if flows.is_folder(n)]
        if not folders:
            return _json({"error": "请在文件夹上使用“生成交接档案包”"}, 400, lang)
        user = _user(request)
        if not user:
            return _json({"error": "文件菜单动作必须由一位 Nextcloud 用户发起"}, 403, lang)
        try:
            paths = [flows.node_path(n) for n in folders]
        except (ConnectorError, TypeError, ValueError) as exc:
            return _json({"error": f"文件夹路径无效：{exc}" if isinstance(exc, ConnectorError) else "文件夹路径无效"},
                         400, lang)
        jobs_out = []
        for node, _path in zip(folders, paths, strict=True):
            job, created = flows.enqueue_assemble(svc, node, user)
            jobs_out.append({"id": job.id, "status": job.status, "created": created, "path": job.payload["path"]})
        return _json({"status": "accepted", "redirect_handler": svc.client.TOP_MENU_NAME if svc.client else "status",
                      "jobs": jobs_out}, 200, lang)

    # -- 2. webhook -------------------------------------------------------------------------
    @app.post("/api/v1/webhook")
    async def webhook(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            env_ = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return JSONResponse({"error": "invalid JSON"}, status_code=400)
        event = env_.get("event") if isinstance(env_, dict) else None
        paths: list[str] = []
        if isinstance(event, dict):
            for key in ("node", "target"):
                node = event.get(key)
                if isinstance(node, dict) and isinstance(node.get("path"), str):
                    # "/<uid>/files/<path>" -> "/<path>"
                    parts = node["path"].split("/", 3)
                    if len(parts) == 4 and parts[2] == "files":
                        paths.append("/" + parts[3])
        key = "scan:webhook:" + hashlib.sha256(raw).hexdigest()[:32]
        job, created = flows.enqueue_scan(svc, key, paths, reason="webhook")
        return JSONResponse({"status": "accepted", "job": job.id, "duplicate": not created})

    # -- jobs -------------------------------------------------------------------------------
    def _ids(value: str | None) -> list[str]:
        return [v for v in (value or "").replace(" ", "").split(",") if v][:100]

    def viewer(request: Request) -> Principal:
        return svc.principal(_user(request))

    def job_ids(value: str) -> list[int]:
        return [n for n in (_id(i) for i in _ids(value)) if n is not None]

    @app.get("/api/v1/jobs")
    def api_jobs(request: Request, ids: str = "", fileIds: str = "") -> JSONResponse:
        id_list = job_ids(ids)
        if ids and not id_list:
            return _json({"jobs": []}, lang=_lang(request))
        jobs_ = svc.queue.list(viewer=viewer(request), ids=id_list or None, file_ids=_ids(fileIds) or None)
        return _json({"jobs": [j.as_json() for j in jobs_]}, lang=_lang(request))

    @app.get("/api/v1/jobs/{job_id}")
    def api_job(request: Request, job_id: str) -> JSONResponse:
        n = _id(job_id)
        job = svc.queue.get_for(n, viewer(request)) if n is not None else None
        if job is None:
            return _json({"error": "没有这个任务"}, 404, _lang(request))
        return _json(job.as_json(), lang=_lang(request))

    @app.post("/api/v1/jobs/{job_id}/retry")
    def api_retry(request: Request, job_id: str) -> JSONResponse:
        n = _id(job_id)
        who = viewer(request)
        job = svc.queue.get_for(n, who) if n is not None else None
        if job is None:
            return _json({"error": "没有这个任务"}, 404, _lang(request))
        if not who.can_act_on(job.user):
            # Re-running it would read and write that user's files on this user's request.
            return _json({"error": "只能重试自己发起的任务"}, 403, _lang(request))
        if job.status != "failed":
            return _json({"error": "只有失败的任务可以重试"}, 409, _lang(request))
        again, _ = svc.queue.enqueue(job.kind, job.key, job.payload, user=job.user, title=job.title)
        return _json(again.as_json(), lang=_lang(request))

    # -- 3. registry ------------------------------------------------------------------------
    def _search(request: Request) -> list[dict[str, Any]]:
        qp = request.query_params
        year = qp.get("year", "").strip()
        return registry.search(svc.engine, viewer=viewer(request), text=qp.get("q", "")[:200],
                               leader=qp.get("leader", "")[:100], unit=qp.get("unit", "")[:200],
                               year=int(year) if year.isdigit() and len(year) == 4 else None,
                               category=qp.get("category", "")[:64])

    def _public(rec: dict[str, Any], who: Principal | None = None) -> dict[str, Any]:
        keep = ("archival_code", "leader", "post", "unit", "term_start", "term_end", "created", "filed_at", "dms",
                "folder", "name", "sha256", "size", "items", "exceptions", "counts", "signatures", "catalogue",
                "last_check")
        out = {k: rec[k] for k in keep if k in rec}
        if "catalogue" in out:
            out["catalogue"] = [{k: it[k] for k in ("seq", "code", "category", "title", "date", "archival_code")}
                                for it in out["catalogue"]]
        out["location"] = svc.dms.describe(f"{rec['folder']}/{rec['name']}")
        if out.get("last_check") and not (who is not None and who.admin):
            # who read it, and the details, are the access log's: administrators only
            out["last_check"] = {k: out["last_check"][k] for k in ("at", "action", "result")}
        return out

    @app.get("/api/v1/bundles")
    def api_bundles(request: Request) -> JSONResponse:
        return _json({"bundles": [_public(r) for r in _search(request)]}, lang=_lang(request))

    @app.get("/api/v1/bundles/{code}")
    def api_bundle(request: Request, code: str) -> JSONResponse:
        who = viewer(request)
        rec = registry.get(svc.engine, code, viewer=who)
        if rec is None:
            return _json({"error": f"登记簿中没有档号为 {code} 的档案包"}, 404, _lang(request))
        registry.log_access(svc.engine, _user(request), code, "view", "ok")
        return _json(_public(rec, who), lang=_lang(request))

    def _fetch(request: Request, code: str, action: str) -> tuple[registry.Fetched | None, Path, str]:
        tmp = Path(tempfile.mkdtemp(prefix="fetch-", dir=svc.settings.work_dir))
        try:
            # Read from the DMS as the request's user, never as the bundle's owner.
            return registry.fetch_bundle(svc.engine, svc.dms, code, tmp, viewer=viewer(request), who=_user(request),
                                         action=action), tmp, ""
        except registry.RegistryError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            return None, tmp, str(exc)

    @app.get("/api/v1/bundles/{code}/download")
    def api_download(request: Request, code: str) -> Response:
        fetched, tmp, error = _fetch(request, code, "download")
        if fetched is None:
            return _json({"error": error}, 404 if "没有档号" in error else 502, _lang(request))
        if not fetched.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            return _json({"error": "档案包校验未通过，不予提供", "problems": fetched.problems}, 409, _lang(request))
        return FileResponse(fetched.path, media_type="application/zip", filename=fetched.path.name,
                            background=BackgroundTask(shutil.rmtree, tmp, True))

    @app.post("/api/v1/bundles/{code}/verify")
    def api_verify(request: Request, code: str) -> JSONResponse:
        fetched, tmp, error = _fetch(request, code, "verify")
        shutil.rmtree(tmp, ignore_errors=True)
        if fetched is None:
            return _json({"error": error}, 404 if "没有档号" in error else 502, _lang(request))
        checks = len(fetched.report.checks) if fetched.report is not None else 0
        return _json({"ok": fetched.ok, "problems": fetched.problems, "checks": checks}, lang=_lang(request))

    @app.get("/api/v1/drafts")
    def api_drafts(request: Request) -> JSONResponse:
        return _json({"drafts": flows.drafts_for(svc, viewer(request))}, lang=_lang(request))

    @app.post("/api/v1/drafts/{draft_id}/confirm")
    def api_confirm(request: Request, draft_id: str) -> JSONResponse:
        n = _id(draft_id)
        try:
            if n is None:
                raise flows.ConfirmError("没有这个档案包草稿", 404)
            job = flows.confirm_draft(svc, n, viewer(request))
        except flows.ConfirmError as exc:
            return _json({"error": str(exc)}, exc.status, _lang(request))
        return _json({"status": "accepted", "job": job.id}, lang=_lang(request))

    @app.get("/api/v1/access-log")
    def api_access(request: Request, code: str = "") -> JSONResponse:
        who = viewer(request)
        if not who.admin:
            # info.xml declares the route admin-only, but that holds only behind AppAPI's proxy:
            # the admin flag is checked here too, with Nextcloud (OCS).
            return _json({"error": "利用记录仅限 Nextcloud 管理员查看"}, 403, _lang(request))
        return _json({"entries": registry.access_entries(svc.engine, code or None, viewer=who)}, lang=_lang(request))

    @app.get("/api/v1/notifications")
    def api_notifications(request: Request) -> JSONResponse:
        return _json({"notifications": svc.notifier.recent(50, viewer=viewer(request))}, lang=_lang(request))

    # -- cases -------------------------------------------------------------------------------
    def case_user(request: Request) -> str:
        return _user(request) if svc.settings.exapp else viewer(request).user

    @app.get("/api/v1/cases")
    def api_cases(request: Request) -> JSONResponse:
        today = svc.today()
        rows = case_mod.list_cases(svc.engine, viewer=viewer(request))
        return _json({"cases": [c.as_json(today, svc.settings.deadline_days) for c in rows]}, lang=_lang(request))

    @app.post("/api/v1/cases")
    async def api_open_case(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            case = case_mod.open_case(svc.engine, user=case_user(request),
                                      **{k: str(body.get(k, "") or "") for k in (
                                          "leader", "announced", "post", "unit", "incoming", "term_start", "term_end",
                                          "folder")})
        except (case_mod.CaseError, json.JSONDecodeError, AttributeError) as exc:
            return _json({"error": str(exc) if isinstance(exc, case_mod.CaseError) else "请求内容不是 JSON 对象"}, 400,
                         _lang(request))
        return _json(case.as_json(svc.today(), svc.settings.deadline_days), 201, _lang(request))

    # -- pages -------------------------------------------------------------------------------
    @app.get("/")
    def root(request: Request) -> RedirectResponse:
        return RedirectResponse("search" + (f"?{request.url.query}" if request.url.query else ""), status_code=303)

    @app.get("/search", response_class=HTMLResponse)
    def search_page(request: Request) -> HTMLResponse:
        qp = request.query_params
        asked = any(qp.get(k) for k in ("q", "leader", "unit", "year", "category"))
        results = _search(request)
        return page(request, "search.html", results=results, asked=asked, q=qp.get("q", ""), leader=qp.get("leader", ""),
                    unit=qp.get("unit", ""), year=qp.get("year", ""), category=qp.get("category", ""),
                    categories=[(c.code, c.name) for c in svc.inventory],
                    total=registry.count(svc.engine, viewer=viewer(request)))

    @app.get("/bundle", response_class=HTMLResponse)
    def bundle_page(request: Request, code: str = "") -> HTMLResponse:
        who = viewer(request)
        rec = registry.get(svc.engine, code, viewer=who)
        if rec is None:
            return page(request, "message.html", 404, title="未找到", message=f"登记簿中没有档号为 {code} 的档案包。")
        registry.log_access(svc.engine, _user(request), code, "view", "ok")
        if not who.admin and rec.get("last_check"):
            rec["last_check"] = {k: rec["last_check"][k] for k in ("at", "action", "result")}
        return page(request, "bundle.html", b=rec, location=svc.dms.describe(f"{rec['folder']}/{rec['name']}"),
                    access=registry.access_entries(svc.engine, code, 10, viewer=who))

    @app.get("/download")
    def download_page(request: Request, code: str = "") -> Response:
        fetched, tmp, error = _fetch(request, code, "download")
        if fetched is None:
            return page(request, "message.html", 404, title="无法取回", message=error)
        if not fetched.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            return page(request, "message.html", 409, title="校验未通过，不予提供",
                        message="从 DMS 取回的档案包未通过校验：", problems=fetched.problems)
        return FileResponse(fetched.path, media_type="application/zip", filename=fetched.path.name,
                            background=BackgroundTask(shutil.rmtree, tmp, True))

    def refused_form(request: Request, form: dict[str, str]) -> Response | None:
        """403 for a standalone form post without this server's CSRF token."""
        if guard.check_form(form):
            return None
        return page(request, "message.html", 403, title="请求被拒绝",
                    message="表单缺少有效的校验码（可能来自其他网站）。请从本系统的页面重新提交。")

    @app.post("/verify")
    async def verify_page(request: Request, code: str = "") -> Response:
        if (refused := refused_form(request, await _form(request))) is not None:
            return refused
        _fetched, tmp, _error = await run_in_threadpool(_fetch, request, code, "verify")
        shutil.rmtree(tmp, ignore_errors=True)
        q = urlencode({"code": code, **({"lang": "zh-Hant"} if _lang(request) == "zh-Hant" else {})})
        return RedirectResponse(f"bundle?{q}", status_code=303)

    @app.get("/status", response_class=HTMLResponse)
    def status_page(request: Request, job: str = "", fileIds: str = "") -> HTMLResponse:
        who = viewer(request)
        id_list = job_ids(job)
        jobs_ = [] if job and not id_list else svc.queue.list(viewer=who, ids=id_list or None,
                                                              file_ids=_ids(fileIds) or None, limit=30)
        folders = svc.dms.folders() if isinstance(svc.dms, LocalDMS) and not svc.settings.exapp else []
        may_confirm = who.sees_all or who.admin
        to_confirm = flows.drafts_for(svc, who, ("confirm",))
        return page(request, "status.html", jobs=jobs_, folders=folders, notes=svc.notifier.recent(10, viewer=who),
                    to_confirm=to_confirm, may_confirm=may_confirm,
                    job_q=job, file_q=fileIds, webhooks=svc.webhooks, webhook_error=svc.webhook_error,
                    poll_seconds=int(svc.settings.poll_seconds))

    @app.post("/assemble")
    async def assemble_form(request: Request) -> Response:
        """Standalone stand-in for the Files menu: start assembling a local folder."""
        form = await _form(request)
        if (refused := refused_form(request, form)) is not None:
            return refused
        folder = form.get("folder", "")
        if not isinstance(svc.dms, LocalDMS) or svc.settings.exapp:
            return page(request, "message.html", 400, title="请从文件菜单发起", message="请在 Nextcloud 文件应用中对文件夹使用“生成交接档案包”。")
        try:
            path = flows.norm(folder)
            native = svc.dms.native(path)
        except Exception:
            native, path = None, folder
        if native is None or path == "/" or not native.is_dir():
            return page(request, "message.html", 400, title="文件夹不存在", message=f"找不到文件夹：{folder}")
        st = native.stat()
        node = {"fileId": f"{st.st_dev}-{st.st_ino}", "name": native.name, "directory": flows.split(path)[0],
                "etag": flows.local_folder_etag(native), "mime": flows.FOLDER_MIME, "fileType": "dir"}
        job, _ = flows.enqueue_assemble(svc, node, viewer(request).user)
        lang = "&lang=zh-Hant" if _lang(request) == "zh-Hant" else ""
        return RedirectResponse(f"status?job={job.id}{lang}", status_code=303)

    @app.post("/confirm")
    async def confirm_form(request: Request) -> Response:
        form = await _form(request)
        if (refused := refused_form(request, form)) is not None:
            return refused
        n = _id(form.get("draft", ""))
        lang = "?lang=zh-Hant" if _lang(request) == "zh-Hant" else ""
        try:
            if n is None:
                raise flows.ConfirmError("没有这个档案包草稿", 404)
            flows.confirm_draft(svc, n, viewer(request))
        except flows.ConfirmError as exc:
            return page(request, "message.html", exc.status, title="无法确认", message=str(exc))
        return RedirectResponse(f"status{lang}", status_code=303)

    @app.get("/cases", response_class=HTMLResponse)
    def cases_page(request: Request, error: str = "") -> HTMLResponse:
        today = svc.today()
        rows = [c.as_json(today, svc.settings.deadline_days)
                for c in case_mod.list_cases(svc.engine, viewer=viewer(request))]
        return page(request, "cases.html", cases=rows, error=error, today=today.isoformat(),
                    limit=svc.settings.deadline_days, draft_days=svc.settings.draft_days)

    @app.post("/cases")
    async def cases_form(request: Request) -> Response:
        form = await _form(request)
        if (refused := refused_form(request, form)) is not None:
            return refused
        lang = "&lang=zh-Hant" if _lang(request) == "zh-Hant" else ""
        try:
            case_mod.open_case(svc.engine, user=case_user(request),
                               **{k: str(form.get(k, "") or "") for k in (
                                   "leader", "announced", "post", "unit", "incoming", "term_start", "term_end", "folder")})
        except case_mod.CaseError as exc:
            return RedirectResponse(f"cases?error={quote(str(exc))}{lang}", status_code=303)
        return RedirectResponse(f"cases?{lang.lstrip('&')}", status_code=303)

    # -- assets for the Nextcloud top-menu page --------------------------------------------------
    @app.get("/js/dossier-embed.js")
    def embed_js() -> PlainTextResponse:
        return PlainTextResponse(EMBED_JS.replace("__APP_ID__", svc.settings.app_id), media_type="text/javascript")

    @app.get("/img/icon.svg")
    def icon() -> Response:
        return Response(ICON_SVG, media_type="image/svg+xml")

    guard = Guard(AppAPIAuth(app, svc), svc.settings, bind_host)
    return guard  # type: ignore[return-value]


# The top-menu page AppAPI renders (/index.php/apps/app_api/embedded/<appid>/dossier?fileIds=..)
# loads this script; it shows our status page in a frame through AppAPI's proxy.
EMBED_JS = """(function () {
  function mount() {
    var root = document.getElementById('content') || document.body;
    var params = new URLSearchParams(window.location.search);
    var base = (window.OC && OC.webroot !== undefined ? OC.webroot : '') + '/index.php/apps/app_api/proxy/__APP_ID__/';
    var target = params.get('fileIds') ? 'status?fileIds=' + encodeURIComponent(params.get('fileIds')) : 'search';
    var frame = document.createElement('iframe');
    frame.src = base + target;
    frame.style.cssText = 'border:0;width:100%;height:calc(100vh - 50px)';
    root.appendChild(frame);
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', mount); } else { mount(); }
})();
"""

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24">'
    '<path fill="#fff" d="M4 3h11l5 5v13H4z M14 3v6h6" stroke="#fff"/></svg>'
)
