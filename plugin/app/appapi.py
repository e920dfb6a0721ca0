"""AppAPI: authenticating Nextcloud's calls to us, and calling Nextcloud as the ExApp.

Both directions use the same headers (``EX-APP-ID``, ``EX-APP-VERSION``, ``AA-VERSION`` and
``AUTHORIZATION-APP-API = base64("<user>:<app secret>")``), as recorded from Nextcloud 27 +
AppAPI 3.1 in ``shared/fixtures/nextcloud/appapi-*.json``. We implement them here instead of
using nc-py-api's middleware and client because (a) its client first fetches
``/ocs/v1.php/cloud/capabilities`` before every UI/notification call (an exchange the
recordings do not have), (b) its ``sign_check`` error message contains the expected secret,
and (c) it pulls in niquests/urllib3-future, which replaces the ``urllib3`` that ``requests``
(our connectors) runs on. The wire format is identical to what nc-py-api sends.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

import requests

from .config import Settings

log = logging.getLogger("handover_dossier.app.appapi")

AUTH_HEADERS = ("EX-APP-ID", "EX-APP-VERSION", "AUTHORIZATION-APP-API")
#: Lifecycle probe AppAPI sends without any AppAPI headers (appapi-exapp-received-heartbeat.json).
UNAUTHENTICATED = {("GET", "/heartbeat")}


class AuthError(Exception):
    """The request does not carry valid AppAPI credentials (message never contains secrets)."""


def check_request(headers: Any, settings: Settings) -> str:
    """Validate the AppAPI headers of an incoming request; return the Nextcloud user id
    (empty for system calls such as ``/init`` and ``/enabled`` from ``occ``)."""
    values = {h: (headers.get(h) or "") for h in AUTH_HEADERS}
    missing = [h for h, v in values.items() if not v]
    if missing:
        raise AuthError(f"缺少 AppAPI 认证头：{', '.join(missing)}")
    if values["EX-APP-ID"] != settings.app_id:
        raise AuthError("EX-APP-ID 与本应用不符")
    try:
        decoded = base64.b64decode(values["AUTHORIZATION-APP-API"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("AUTHORIZATION-APP-API 格式无效") from None
    user, sep, secret = decoded.partition(":")
    if not sep or not hmac.compare_digest(secret.encode(), settings.app_secret.encode()):
        raise AuthError("应用密钥不正确")
    return user


def auth_headers(settings: Settings, user: str = "") -> dict[str, str]:
    """Headers that authenticate us to Nextcloud as the ExApp acting for ``user``."""
    token = base64.b64encode(f"{user}:{settings.app_secret}".encode()).decode("ascii")
    return {
        "EX-APP-ID": settings.app_id,
        "EX-APP-VERSION": settings.app_version,
        "AA-VERSION": settings.aa_version,
        "AUTHORIZATION-APP-API": token,
    }


class NextcloudError(Exception):
    """An OCS call failed. ``str()`` is Chinese and secret-free."""

    def __init__(self, message: str, status: int = 0, statuscode: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.statuscode = statuscode


@dataclass
class OcsResult:
    status: int
    statuscode: int
    data: Any


class NextcloudClient:
    """The few OCS endpoints the ExApp needs, called with AppAPI authentication.

    Paths and bodies follow the recorded exchanges (files-actions-menu v2 registration,
    notification); the webhook_listeners, top-menu, script and init-status calls are not
    among the recordings and follow ``docs/nextcloud-integration.md`` §1.2, §1.8, §2.1.
    """

    FILE_ACTION_NAME = "handover_dossier"
    FILE_ACTION_LABEL = "生成交接档案包"
    FILE_ACTION_HANDLER = "/api/v1/files-action"
    FOLDER_MIME = "httpd/unix-directory"
    TOP_MENU_NAME = "dossier"
    TOP_MENU_LABEL = "交接档案"
    WEBHOOK_URI = "/api/v1/webhook"
    WEBHOOK_EVENTS = (
        "OCP\\Files\\Events\\Node\\NodeCreatedEvent",
        "OCP\\Files\\Events\\Node\\NodeWrittenEvent",
        # Nextcloud >= 32 only; older servers refuse it and the poller covers tags there.
        "OCP\\SystemTag\\TagAssignedEvent",
    )

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.base = settings.nextcloud_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    # -- transport -------------------------------------------------------------------
    def ocs(self, method: str, path: str, *, user: str = "", json_body: Any = None,
            params: dict[str, str] | None = None) -> OcsResult:
        headers = {**auth_headers(self.settings, user), "OCS-APIRequest": "true", "Accept": "application/json"}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        query = {"format": "json", **(params or {})}
        try:
            # Never follow a redirect: it would carry AUTHORIZATION-APP-API (the app secret)
            # to wherever the Location header points.
            r = self.session.request(method, self.base + path, params=query, headers=headers,
                                     data=None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode(),
                                     timeout=self.timeout, allow_redirects=False, stream=True)
            self._read(r)
        except requests.RequestException as exc:
            raise NextcloudError(f"无法连接 Nextcloud：{type(exc).__name__}") from None
        if 300 <= r.status_code < 400:
            r.close()
            raise NextcloudError(f"Nextcloud 返回了重定向（HTTP {r.status_code}），为保护应用密钥未跟随；"
                                 "请检查 NEXTCLOUD_URL 是否为最终地址（https、路径）", r.status_code)
        statuscode, data, message = 0, None, ""
        try:
            body = r.json()
            meta = body["ocs"]["meta"]
            statuscode, data, message = int(meta.get("statuscode") or 0), body["ocs"].get("data"), meta.get("message") or ""
        except (ValueError, KeyError, TypeError):
            pass
        ok_codes = (100, 200)
        if r.status_code == 401:
            raise NextcloudError("Nextcloud 拒绝了应用认证（AppAPI 密钥或应用 ID 不符）", r.status_code, statuscode)
        if r.status_code == 503:
            raise NextcloudError("Nextcloud 正处于维护模式，稍后重试", r.status_code, statuscode)
        if not (200 <= r.status_code < 300) or statuscode not in ok_codes:
            raise NextcloudError(f"Nextcloud 返回错误：HTTP {r.status_code}" + (f"，{message}" if message else ""),
                                 r.status_code, statuscode)
        return OcsResult(r.status_code, statuscode, data)

    #: Longest OCS answer read (they are a few kilobytes).
    MAX_ANSWER = 8 << 20

    def _read(self, r: requests.Response) -> None:
        parts, n = [], 0
        for chunk in r.iter_content(1 << 16):
            n += len(chunk)
            if n > self.MAX_ANSWER:
                r.close()
                raise NextcloudError(f"Nextcloud 的回复过大（超过 {self.MAX_ANSWER >> 20} MB），已中止", r.status_code)
            parts.append(chunk)
        r._content = b"".join(parts)
        r._content_consumed = True

    # -- users -------------------------------------------------------------------------
    def user_groups(self, user: str) -> list[str]:
        """The groups ``user`` belongs to, asked of Nextcloud as that user
        (``GET /ocs/v2.php/cloud/user``, recorded in ``ocs-v2-cloud-user.json``); members of
        ``admin`` are Nextcloud administrators."""
        if not user:
            return []
        data = self.ocs("GET", "/ocs/v2.php/cloud/user", user=user).data
        if not isinstance(data, dict) or str(data.get("id", "")) != user:
            raise NextcloudError("Nextcloud 返回的用户信息与请求的用户不符")
        groups = data.get("groups")
        return [str(g) for g in groups] if isinstance(groups, list) else []

    # -- AppAPI ------------------------------------------------------------------------
    def set_init_status(self, progress: int, error: str = "") -> None:
        self.ocs("PUT", "/ocs/v1.php/apps/app_api/ex-app/status", json_body={"progress": progress, "error": error})

    def register_file_action(self, user: str = "") -> None:
        """Files-menu entry for folders, v2 route (NC 28+ then posts ``{"files": [...]}``;
        NC 27 posts the legacy single-node payload — the handler accepts both)."""
        self.ocs("POST", "/ocs/v1.php/apps/app_api/api/v2/ui/files-actions-menu", user=user, json_body={
            "name": self.FILE_ACTION_NAME,
            "displayName": self.FILE_ACTION_LABEL,
            "actionHandler": self.FILE_ACTION_HANDLER,
            "icon": "",
            "mime": self.FOLDER_MIME,
            "permissions": 31,
            "order": 0,
        })

    def register_top_menu(self, user: str = "") -> None:
        """Top-menu page (``redirect_handler`` of the Files action points at it) plus the small
        script that shows our server-rendered pages inside it."""
        base = "/ocs/v1.php/apps/app_api/api/v1/ui"
        self.ocs("POST", f"{base}/top-menu", user=user, json_body={
            "name": self.TOP_MENU_NAME, "displayName": self.TOP_MENU_LABEL, "icon": "img/icon.svg", "adminRequired": 0,
        })
        self.ocs("POST", f"{base}/script", user=user, json_body={
            "type": "top_menu", "name": self.TOP_MENU_NAME, "path": "js/dossier-embed", "afterAppId": "",
        })

    def notify(self, user: str, subject: str, message: str = "", link: str = "", object_id: str = "") -> None:
        """A Nextcloud notification for ``user`` (the user named in the AppAPI header)."""
        params: dict[str, Any] = {
            "object": "handover",
            "object_id": object_id or "handover",
            "subject_type": "app_api_ex_app",
            "subject_params": {
                "rich_subject": subject,
                "rich_subject_params": {},
                "rich_message": message,
                "rich_message_params": {},
            },
        }
        if link:
            params["subject_params"]["link"] = link
        self.ocs("POST", "/ocs/v1.php/apps/app_api/api/v1/notification", user=user, json_body={"params": params})

    # -- webhook_listeners (Nextcloud 30+) --------------------------------------------
    def register_webhooks(self, handover_path_regex: str) -> list[str]:
        """(Re)register our webhooks; returns the events registered. Deleting ours first keeps
        enable idempotent. Raises NextcloudError when the server has no webhook_listeners."""
        base = "/ocs/v1.php/apps/webhook_listeners/api/v1/webhooks"
        self.ocs("DELETE", f"{base}/byappid/{self.settings.app_id}")
        done = []
        for event in self.WEBHOOK_EVENTS:
            body: dict[str, Any] = {"httpMethod": "POST", "uri": self.WEBHOOK_URI, "event": event}
            if "Node" in event:
                body["eventFilter"] = {"event.node.path": handover_path_regex}
            else:
                body["eventFilter"] = {"event.objectType": "files"}
            try:
                self.ocs("POST", base, json_body=body)
                done.append(event)
            except NextcloudError as exc:
                if not done:
                    raise
                log.info("webhook for %s not registered: %s", event.rsplit("\\", 1)[-1], exc)
        return done
