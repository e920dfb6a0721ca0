"""Settings: documented defaults, config file, environment precedence, ExApp detection."""

from __future__ import annotations

from pathlib import Path

import pytest
from handover_dossier.app.config import ConfigError, load_settings
from handover_dossier.app.service import handover_regex

APPAPI = {"APP_ID": "handover_dossier", "APP_SECRET": "x" * 64, "APP_VERSION": "0.1.0", "APP_PORT": "9031",
          "NEXTCLOUD_URL": "http://127.0.0.1:8080/"}


def test_defaults_are_standalone_on_loopback(tmp_path: Path) -> None:
    s = load_settings({"DOSSIER_DATA_DIR": str(tmp_path)})
    assert s.mode == "standalone" and not s.exapp
    assert (s.host, s.port, s.workers, s.poll_seconds, s.draft_days, s.deadline_days) == ("127.0.0.1", 9030, 2, 300.0, 7, 15)
    assert s.dms_root == tmp_path / "dms" and s.database_url == f"sqlite:///{(tmp_path / 'dossier.db').resolve()}"
    assert [r.field_name for r in s.roles] == ["sig_outgoing", "sig_incoming", "sig_supervisor"]
    assert s.handover_folder == "{parent}/{name}-交接" and s.dossier_folder == "/干部人事档案/{leader}"


def test_appapi_environment_switches_to_exapp_mode(tmp_path: Path) -> None:
    s = load_settings({**APPAPI, "APP_PERSISTENT_STORAGE": str(tmp_path), "APP_HOST": "0.0.0.0"})
    assert s.exapp and s.port == 9031 and s.host == "0.0.0.0" and s.nextcloud_url == "http://127.0.0.1:8080"
    assert s.data_dir == tmp_path and s.dms_root is None  # files come from Nextcloud
    assert "x" * 64 not in repr(s)  # the secret never shows up in logs of the settings
    # Half an AppAPI configuration never falls back to standalone mode (unauthenticated):
    # the app refuses to start and says what is missing (docs/SECURITY.md, "fails open").
    for gone in ("NEXTCLOUD_URL", "APP_SECRET"):
        with pytest.raises(ConfigError, match=f"缺少 AppAPI 配置：{gone}"):
            load_settings({**{k: v for k, v in APPAPI.items() if k != gone}, "APP_HOST": "0.0.0.0"})
    with pytest.raises(ConfigError, match="缺少 AppAPI 配置：NEXTCLOUD_URL"):
        load_settings({**APPAPI, "NEXTCLOUD_URL": ""})
    with pytest.raises(ConfigError, match="DOSSIER_MODE=exapp"):
        load_settings({"DOSSIER_MODE": "exapp"})
    with pytest.raises(ConfigError, match="过短"):
        load_settings({**APPAPI, "APP_SECRET": "short"})
    explicit = load_settings({**{k: v for k, v in APPAPI.items() if k != "NEXTCLOUD_URL"}, "DOSSIER_MODE": "standalone",
                              "DOSSIER_DATA_DIR": str(tmp_path)})
    assert not explicit.exapp and explicit.app_secret == ""


def test_config_file_and_environment_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "dossier.toml"
    cfg.write_text('deadline_days = 10\nworkers = 4\nsigner_roles = "a=甲方,b=乙方"\n'
                   'dossier_folder = "/档案/{unit}/{leader}"\n', encoding="utf-8")
    s = load_settings({"DOSSIER_CONFIG": str(cfg), "DOSSIER_WORKERS": "1"})
    assert s.deadline_days == 10 and s.workers == 1
    assert [(r.key, r.label) for r in s.roles] == [("a", "甲方"), ("b", "乙方")]
    assert s.dossier_folder == "/档案/{unit}/{leader}"


@pytest.mark.parametrize("env, message", [
    ({"DOSSIER_WORKERS": "两个"}, "应为整数"),
    ({"DOSSIER_SIGNER_ROLES": "离任=离任领导"}, "英文标识符"),
    ({"DOSSIER_SIGNER_ROLES": "a=甲,a=乙"}, "重复"),
    ({"DOSSIER_SIGNER_MATCH": "any"}, "field 或 count"),
    ({"DOSSIER_HANDOVER_FOLDER": "{parent}/{folder}"}, "模板无效"),
    ({"DOSSIER_CONFIG": "/nonexistent/dossier.toml"}, "无法读取配置文件"),
])
def test_bad_settings_are_refused_in_chinese(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_webhook_path_filter_follows_the_handover_folder_setting() -> None:
    import re

    fixed = re.compile(handover_regex("/交接/待签")[1:-2], re.I)
    assert fixed.match("/archivist/files/交接/待签/张三-交接书.signed_3.pdf")
    assert not fixed.match("/archivist/files/交接/待签/子目录/x.pdf")
    assert not fixed.match("/archivist/files/交接/待签/说明.docx")
