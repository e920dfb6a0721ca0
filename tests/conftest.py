"""Shared test fixtures.

Support modules under tests/support/ hold the real servers the suite starts on loopback
(WebDAV, fault-injection proxy, ...); they are registered here as pytest plugins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the checkout (read-only); DOSSIER_SHARED points elsewhere when the
# checkout lives somewhere else.
SHARED = Path(os.environ.get("DOSSIER_SHARED") or ROOT.parent / "shared")
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins: list[str] = ["support.webdav_server", "support.faultproxy", "support.bundletools", "support.redis_server"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own download/model cache so tests never see each other's state."""
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path_factory.mktemp("cache")))
    # Trained classifier models are keyed by a hash of what they were trained from, so
    # sharing them is safe; it spares every test (and CLI subprocess) a retrain.
    monkeypatch.setenv("DOSSIER_MODEL_CACHE", str(ROOT / ".pytest_cache" / "dossier-models"))
    monkeypatch.delenv("DOSSIER_LANG", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # LibreOffice adds ~3-5 s to every bundle; tests about PDF renditions (test_render,
    # test_determinism, the shared good_bundle fixture) switch it back on with DOSSIER_PDF=1.
    monkeypatch.setenv("DOSSIER_PDF", "0")


#: Why a test that needs ../shared is skipped where it is absent (a fresh clone from a code host).
SHARED_MISSING = (
    f"needs ../shared/ (real Nextcloud recordings, real development corpus), not found at {SHARED}: "
    "a fresh clone has none; set DOSSIER_SHARED to run these tests"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The one place that decides: a test that uses ``shared_dir`` (or is marked ``shared``)
    is marked ``shared`` and, where ../shared is absent, skipped with the reason above."""
    present = SHARED.is_dir()
    for item in items:
        if "shared_dir" in getattr(item, "fixturenames", ()) or item.get_closest_marker("shared"):
            item.add_marker(pytest.mark.shared)
            if not present:
                item.add_marker(pytest.mark.skip(reason=SHARED_MISSING))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (read-only): fixtures recorded from a real Nextcloud, the real dev corpus.

    Tests that use it are skipped where it is absent (see ``pytest_collection_modifyitems``)."""
    if not SHARED.is_dir():  # reached only by a test that asks for it at run time
        pytest.skip(SHARED_MISSING)
    return SHARED


@pytest.fixture(scope="session")
def sample_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample corpus, generated once per session (treat as read-only)."""
    from handover_dossier.samplecorpus import generate

    return generate(tmp_path_factory.mktemp("sample") / "corpus")


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")
