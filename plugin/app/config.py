"""Settings of the Nextcloud app / standalone service, from the environment and a config file.

Two modes share one code path, and the mode is never guessed from half a configuration:

- **ExApp** — ``DOSSIER_MODE=exapp`` (the Docker image sets it), or AppAPI's variables
  ``APP_ID``, ``APP_SECRET``, ``APP_VERSION``, ``APP_PORT`` and ``NEXTCLOUD_URL`` all set: the
  service authenticates every request with the AppAPI headers and talks to Nextcloud as the
  ExApp. When ExApp mode is asked for (explicitly, or by *any* of those variables) and one is
  missing or empty, the app does not start: :class:`ConfigError` names what is missing. (It
  used to fall back to standalone mode -- no authentication -- on the address AppAPI gave.)
- **standalone** — ``DOSSIER_MODE=standalone``, or none of AppAPI's variables: local folders
  stand in for the DMS (``DOSSIER_DMS_ROOT``) for one operator. It binds loopback, and
  refuses any other address unless a login is configured (``DOSSIER_LOGIN_USER`` /
  ``DOSSIER_LOGIN_PASSWORD``); see :mod:`.guard`.

Every ``DOSSIER_*`` setting may also be given in a TOML file (``DOSSIER_CONFIG``) with the
lower-case key without the prefix, e.g. ``deadline_days = 10``; the environment wins.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

#: (key, Chinese label) of the signatures a handover certificate needs by default:
#: the departing leader hands over, the incoming leader receives, a supervisor attends.
DEFAULT_ROLES = "outgoing=移交人（离任领导）,incoming=接交人（接任领导）,supervisor=监交人"

APPAPI_VARS = ("APP_ID", "APP_SECRET", "APP_VERSION", "APP_PORT", "NEXTCLOUD_URL")
#: Shortest app secret accepted (AppAPI generates 128 characters; README asks for 64).
MIN_SECRET = 32


class ConfigError(ValueError):
    """A setting has an unusable value (message in Chinese)."""


@dataclass(frozen=True)
class SignerRole:
    key: str
    label: str

    @property
    def field_name(self) -> str:
        """Name of the PDF signature field the certificate reserves for this role."""
        return f"sig_{self.key}"


@dataclass(frozen=True)
class Settings:
    mode: str = "standalone"  # "exapp" | "standalone"
    # -- AppAPI (ExApp mode) --------------------------------------------------
    app_id: str = "handover_dossier"
    app_secret: str = field(default="", repr=False)
    app_version: str = ""
    aa_version: str = "3.1.0"
    nextcloud_url: str = ""
    host: str = "127.0.0.1"
    port: int = 9030
    # -- storage -----------------------------------------------------------------
    data_dir: Path = Path("dossier-data")
    db_url: str = ""
    #: Local folder used as the DMS (standalone; in ExApp mode only when set explicitly).
    dms_root: Path | None = None
    # -- layout in the DMS (paths relative to the user's root, '/'-separated) -----------
    #: Where the draft bundle and the 交接书 to sign are written; {parent} and {name} are the
    #: source folder's parent and name.
    handover_folder: str = "{parent}/{name}-交接"
    #: The leader's dossier folder that final bundles are filed into.
    dossier_folder: str = "/干部人事档案/{leader}"
    # -- signatures ------------------------------------------------------------------
    roles: tuple[SignerRole, ...] = ()
    #: "field": a role is satisfied by a valid signature in its reserved field (sig_<key>);
    #: "count": by as many valid signatures from distinct signers as there are roles
    #: (for signing tools that create their own fields).
    signer_match: str = "field"
    trust_root: Path | None = None
    # -- work ---------------------------------------------------------------------
    workers: int = 2
    poll_seconds: float = 300.0
    draft_days: int = 7
    deadline_days: int = 15
    inventory: Path | None = None
    fonds: str = ""
    #: User notified about cases opened from the command line (ExApp mode).
    notify_user: str = ""
    #: Nextcloud group whose members see every user's jobs, bundles and cases (the archive's
    #: staff, e.g. 档案管理员); empty: everyone sees only their own.
    archivist_group: str = ""
    #: Identity recorded for requests in standalone mode without a login.
    local_user: str = "本机用户"
    #: Standalone login (HTTP Basic): required to listen on anything but loopback.
    login_user: str = ""
    login_password: str = field(default="", repr=False)
    #: Host names (Host header) a standalone server answers to, besides loopback's.
    allowed_hosts: tuple[str, ...] = ()
    #: Credentials may be sent over plain http to hosts other than loopback (not advised).
    allow_insecure_http: bool = False

    @property
    def exapp(self) -> bool:
        return self.mode == "exapp"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'dossier.db').resolve()}"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def parse_roles(text: str) -> tuple[SignerRole, ...]:
    """``key=label,key=label`` -> roles (keys are ASCII identifiers: they name PDF fields)."""
    roles = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, _, label = part.partition("=")
        key = key.strip()
        if not key.isidentifier() or not key.isascii():
            raise ConfigError(f"签署角色的代号应为英文标识符：{key!r}")
        roles.append(SignerRole(key, label.strip() or key))
    if not roles:
        raise ConfigError("至少需要配置一个签署角色")
    if len({r.key for r in roles}) != len(roles):
        raise ConfigError("签署角色的代号重复")
    return tuple(roles)


def _int(value: str, name: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise ConfigError(f"{name} 应为整数：{value!r}") from None
    if n < 0:
        raise ConfigError(f"{name} 不能为负数：{value!r}")
    return n


def load_settings(env: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
    """Read the settings; ExApp mode when all of AppAPI's variables are present."""
    env = dict(os.environ if env is None else env)
    values: dict[str, str] = {}
    path = config_file or env.get("DOSSIER_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"无法读取配置文件 {path}：{exc}") from exc
        values.update({str(k).lower(): str(v) for k, v in data.items()})
    for key, value in env.items():
        if key.startswith("DOSSIER_") and value != "":
            values[key[len("DOSSIER_"):].lower()] = value

    mode = (values.get("mode") or "").strip().lower()
    if mode not in ("", "exapp", "standalone"):
        raise ConfigError(f"DOSSIER_MODE 只能是 exapp 或 standalone：{mode!r}")
    present = [v for v in APPAPI_VARS if env.get(v)]
    if mode == "exapp" or (not mode and present):
        missing = [v for v in APPAPI_VARS if not env.get(v)]
        if missing:
            why = "DOSSIER_MODE=exapp" if mode == "exapp" else f"已设置 {', '.join(present)}"
            raise ConfigError(f"ExApp 模式（{why}）缺少 AppAPI 配置：{', '.join(missing)}；应用不启动。"
                              "请补齐这些环境变量，或设置 DOSSIER_MODE=standalone 以单机模式运行")
        if len(env["APP_SECRET"]) < MIN_SECRET:
            raise ConfigError(f"APP_SECRET 过短（至少 {MIN_SECRET} 个字符）；应用不启动")
    exapp = mode == "exapp" or (not mode and bool(present))
    data_dir = Path(values.get("data_dir") or env.get("APP_PERSISTENT_STORAGE") or "dossier-data").expanduser()
    dms_root = values.get("dms_root")
    s = Settings(
        mode="exapp" if exapp else "standalone",
        app_id=env.get("APP_ID") or "handover_dossier",
        app_secret=env.get("APP_SECRET", "") if exapp else "",
        app_version=env.get("APP_VERSION", ""),
        aa_version=env.get("AA_VERSION") or "3.1.0",
        nextcloud_url=(env.get("NEXTCLOUD_URL") or "").rstrip("/"),
        host=env.get("APP_HOST") or values.get("host") or "127.0.0.1",
        port=_int(env.get("APP_PORT") or values.get("port") or "9030", "APP_PORT"),
        data_dir=data_dir,
        db_url=values.get("db_url", ""),
        dms_root=Path(dms_root).expanduser() if dms_root else (None if exapp else data_dir / "dms"),
        handover_folder=values.get("handover_folder", Settings.handover_folder),
        dossier_folder=values.get("dossier_folder", Settings.dossier_folder),
        roles=parse_roles(values.get("signer_roles", DEFAULT_ROLES)),
        signer_match=values.get("signer_match", "field"),
        trust_root=Path(values["trust_root"]).expanduser() if values.get("trust_root") else None,
        workers=max(1, _int(values.get("workers", "2"), "DOSSIER_WORKERS")),
        poll_seconds=float(_int(values.get("poll_seconds", "300"), "DOSSIER_POLL_SECONDS")) or 300.0,
        draft_days=_int(values.get("draft_days", "7"), "DOSSIER_DRAFT_DAYS"),
        deadline_days=_int(values.get("deadline_days", "15"), "DOSSIER_DEADLINE_DAYS"),
        inventory=Path(values["inventory"]) if values.get("inventory") else None,
        fonds=values.get("fonds", ""),
        notify_user=values.get("notify_user", ""),
        archivist_group=values.get("archivist_group", ""),
        login_user=values.get("login_user", ""),
        login_password=values.get("login_password", ""),
        allowed_hosts=tuple(h.strip().lower() for h in values.get("allowed_hosts", "").split(",") if h.strip()),
        allow_insecure_http=values.get("allow_insecure_http", "") in ("1", "true", "yes"),
    )
    if bool(s.login_user) != bool(s.login_password):
        raise ConfigError("DOSSIER_LOGIN_USER 和 DOSSIER_LOGIN_PASSWORD 须同时设置")
    if s.signer_match not in ("field", "count"):
        raise ConfigError(f"DOSSIER_SIGNER_MATCH 只能是 field 或 count：{s.signer_match!r}")
    for template, name in ((s.handover_folder, "DOSSIER_HANDOVER_FOLDER"), (s.dossier_folder, "DOSSIER_DOSSIER_FOLDER")):
        try:
            template.format(parent="", name="", leader="", unit="", post="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{name} 模板无效：{template!r}（可用占位符：{{parent}} {{name}} {{leader}} {{unit}} {{post}}）") from exc
    return s


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name to bind or connect to) is this machine only."""
    import ipaddress

    h = host.strip().strip("[]").lower()
    if h in ("localhost", "localhost.localdomain") or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> None:
    """Refuse to serve standalone mode (one operator, no per-user accounts) on an address
    other people can reach, unless a login is configured."""
    if settings.exapp or is_loopback(host) or settings.login_user:
        return
    raise ConfigError(f"单机模式没有登录，只能监听本机地址（127.0.0.1），不能监听 {host}；"
                      "要在网络上提供服务，请设置 DOSSIER_LOGIN_USER 和 DOSSIER_LOGIN_PASSWORD，"
                      "或以 Nextcloud ExApp 模式运行（DOSSIER_MODE=exapp）")

