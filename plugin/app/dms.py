"""Where the app reads source folders and writes drafts and bundles: a local folder tree
(standalone mode, the demo, most tests) or the Nextcloud user's files over WebDAV.

Paths handed around the app are relative to the user's files root, '/'-separated, with a
leading '/' (as in Nextcloud's Files-menu payload: ``directory`` + ``name``). Everything
below goes through the one :class:`~handover_dossier.connectors.Connector` interface.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import quote

from ..connectors import Connector, ConnectorError, open_connector
from ..connectors.local import LocalConnector
from .config import Settings


def norm(path: str) -> str:
    """'/a/b' form: one leading slash, no trailing slash, no '.'/'..' segments."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ConnectorError(f"路径不能包含“..”：{path}")
    return "/" + "/".join(parts)


def split(path: str) -> tuple[str, str]:
    """(parent, name) of a normalised path."""
    p = norm(path)
    return posixpath.dirname(p) or "/", posixpath.basename(p)


class DMS:
    kind = ""

    def connector(self, path: str, user: str) -> Connector:
        """A connector rooted at the folder ``path`` of ``user``."""
        raise NotImplementedError

    def link(self, folder: str) -> str:
        """A link a user can open to see ``folder`` (notifications, pages)."""
        return ""

    def describe(self, path: str) -> str:
        """Where something is, for people (no credentials)."""
        return norm(path)


class LocalDMS(DMS):
    """A folder tree on this machine stands in for the DMS.

    Standalone (one operator): the tree is the operator's files. ExApp mode with
    ``DOSSIER_DMS_ROOT`` (development, tests): like Nextcloud, every user has files of their
    own, ``<root>/<user>/``, and a connector for one user never reaches another's.
    """

    kind = "local"

    def __init__(self, root: Path, *, per_user: bool = False) -> None:
        self.root = Path(root)
        self.per_user = per_user

    def user_root(self, user: str) -> Path:
        if not self.per_user:
            return self.root
        if not user or user in (".", "..") or "/" in user or "\\" in user or "\0" in user:
            raise ConnectorError("没有可用的用户文件夹（请求中没有有效的用户）")
        return self.root / user

    def native(self, path: str, user: str = "") -> Path:
        base = self.user_root(user)
        return base.joinpath(*norm(path).strip("/").split("/")) if norm(path) != "/" else base

    def connector(self, path: str, user: str) -> Connector:
        return LocalConnector(self.native(path, user))

    def link(self, folder: str) -> str:
        return ""

    def folders(self, depth: int = 2) -> list[str]:
        """Folders up to ``depth`` levels below the root (the standalone "Files menu")."""
        out: list[str] = []

        def walk(p: Path, rel: str, level: int) -> None:
            if level > depth:
                return
            try:
                children = sorted(c for c in p.iterdir() if c.is_dir() and not c.is_symlink() and not c.name.startswith("."))
            except OSError:
                return
            for c in children:
                r = f"{rel}/{c.name}"
                out.append(r)
                walk(c, r, level + 1)

        walk(self.root, "", 1)
        return out


class NextcloudDMS(DMS):
    """The Nextcloud user's files, reached over WebDAV with the AppAPI headers (AppAPI's DAV
    plugin authenticates them as that user: ``appapi-webdav-propfind.json``)."""

    kind = "nextcloud"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def url(self, path: str, user: str) -> str:
        return f"{self.settings.nextcloud_url}/remote.php/dav/files/{quote(user, safe='')}{quote(norm(path))}/"

    def connector(self, path: str, user: str) -> Connector:
        from ..connectors.http import HttpSession
        from .appapi import auth_headers

        http = HttpSession(None, user_agent=f"ExApp/{self.settings.app_id}/{self.settings.app_version}")
        http.session.headers.update(auth_headers(self.settings, user))
        http.session.headers["OCS-APIRequest"] = "true"
        return open_connector(self.url(path, user), credentials=None, http=http)

    def link(self, folder: str) -> str:
        return f"{self.settings.nextcloud_url}/index.php/apps/files/?dir={quote(norm(folder), safe='')}"

    def describe(self, path: str) -> str:
        return f"Nextcloud:{norm(path)}"


def open_dms(settings: Settings) -> DMS:
    if settings.dms_root is not None:
        return LocalDMS(settings.dms_root, per_user=settings.exapp)
    return NextcloudDMS(settings)
