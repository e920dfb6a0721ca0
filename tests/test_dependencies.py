"""Dependency floor and lock (docs/SECURITY.md, "deps"): setup.cfg's lower bounds are above the
releases with known vulnerabilities, every dependency has an exact version in constraints.txt
that satisfies them, and every install path uses that file."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent

#: package -> first release without the known vulnerabilities the security review listed
#: (and a few found since), i.e. the lowest version setup.cfg may admit.
FLOORS = {
    "requests": "2.32.4",      # CVE-2024-47081 (netrc credential leak), CVE-2024-35195
    "urllib3": "2.5.0",        # CVE-2025-50181 / 50182 (redirects not disabled)
    "pillow": "11.3.0",        # CVE-2024-28219 (< 10.3), CVE-2025-48379
    "jinja2": "3.1.6",         # CVE-2025-27516 sandbox escape, CVE-2024-56326 / 56201
    "cryptography": "44.0.1",  # CVE-2024-26130 (42.0.0-42.0.3), CVE-2024-12797 (bundled OpenSSL)
    "starlette": "0.47.2",     # CVE-2024-47874 (< 0.40) multipart DoS, CVE-2025-54121
    "fastapi": "0.115.3",      # the first release that admits starlette >= 0.40
    "pypdf": "6.4.0",          # CVE-2025-55197 (< 6.0), CVE-2025-62707 / 62708, CVE-2025-66019
    "lxml": "5.3.0",
    "h11": "0.16.0",           # CVE-2025-43859 (request smuggling under uvicorn)
}


def requirements() -> dict[str, Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    lines = cfg["options"]["install_requires"].splitlines()
    reqs = [Requirement(ln.split("#", 1)[0].strip()) for ln in lines if ln.split("#", 1)[0].strip()]
    return {r.name.lower(): r for r in reqs}


def pins() -> dict[str, Version]:
    out = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[name.strip().lower().replace("_", "-")] = Version(version.strip())
    return out


def test_lower_bounds_exclude_the_known_vulnerable_releases() -> None:
    reqs = requirements()
    for name, floor in FLOORS.items():
        assert name in reqs, f"{name} must be a declared dependency with a floor"
        spec = reqs[name].specifier
        assert not spec.contains(_below(floor)), (name, str(spec))
        assert spec.contains(floor), (name, str(spec))


def _below(version: str) -> str:
    """A release just below ``version`` (the last patch before it)."""
    v = Version(version)
    major, minor, micro = [*v.release, 0, 0][:3]
    if micro:
        return f"{major}.{minor}.{micro - 1}"
    if minor:
        return f"{major}.{minor - 1}.999"
    return f"{major - 1}.999.999"


def test_every_dependency_is_pinned_within_its_bounds() -> None:
    pinned = pins()
    for name, req in requirements().items():
        key = name.replace("_", "-")
        assert key in pinned, f"{name} has no exact version in constraints.txt"
        assert req.specifier.contains(pinned[key]), (name, str(req.specifier), str(pinned[key]))
    for name, floor in FLOORS.items():
        assert pinned[name] >= Version(floor), (name, str(pinned[name]))


def test_every_install_path_uses_the_constraints() -> None:
    make = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"pip.*install -c constraints\.txt -e '\.\[test\]'", make.replace("$(PIP)", "pip"))
    assert "constraints.txt" in make.split("$(VENV)/.installed:")[1].splitlines()[0]  # reinstalls when it changes
    docker = (REPO / "plugin" / "app" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir -c /app/constraints.txt /app" in docker
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci  # CI installs through the Makefile
