"""The package layout stays true: every import points down, and there are no import circles.

The rule for each boundary is written once here (``ALLOWED``) and drawn in
docs/ARCHITECTURE.md. Imports are read from the source with :mod:`ast`, function-level
(lazy) imports included: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOT = "handover_dossier"

#: The app's modules by concern: the AppAPI platform, the records it keeps, the signing of the
#: 交接书, and the face (web pages and API, job flows, the service that runs them, commands).
APP_PLATFORM = {"app.config", "app.appapi", "app.dms"}

#: unit -> the units it may import (besides itself). A unit is a stage package, a top-level
#: module, or one of the app's concerns.
LEAVES = {"version", "lang", "runtime", "hashing"}
ALLOWED: dict[str, set[str]] = {
    # leaves
    "version": set(),
    "lang": set(),
    "runtime": {"lang"},
    "hashing": set(),
    # connectors know nothing of the application
    "connectors": set(),
    # the inventory definition: data every stage reads
    "inventory": {"lang", "runtime"},
    # stages, in the order data flows
    "extract": LEAVES,
    "classify": LEAVES | {"inventory"},
    "transfer": LEAVES | {"connectors", "extract", "classify", "inventory"},
    "bundle": LEAVES | {"inventory"},
    "verify": LEAVES | {"bundle", "extract", "inventory"},
    "filing": LEAVES | {"connectors", "verify"},
    # orchestration
    "pipeline": LEAVES | {"connectors", "transfer", "extract", "classify", "bundle", "inventory"},
    "quality": LEAVES | {"pipeline", "connectors", "extract", "classify", "inventory"},
    "samplecorpus": LEAVES,
    # faces
    "scale": LEAVES | {"pipeline", "connectors", "transfer", "classify", "bundle", "filing", "inventory"},
    "app.platform": LEAVES | {"connectors"},
    "app.signing": LEAVES | {"app.platform", "inventory", "verify"},
    "app.records": LEAVES | {"app.platform", "connectors", "verify", "filing", "inventory", "bundle"},
    "app.face": LEAVES | {"app.platform", "app.records", "app.signing", "pipeline", "connectors", "transfer",
                          "extract", "classify", "bundle", "verify", "filing", "inventory"},
    "cli": LEAVES | {"pipeline", "quality", "connectors", "transfer", "extract", "classify", "bundle", "verify",
                     "filing", "inventory", "samplecorpus", "scale", "app.face", "app.records", "app.platform"},
    "__init__": LEAVES | {"pipeline", "verify", "inventory", "connectors"},
}


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for prefix, folder in ((ROOT, REPO / "plugin"), (f"{ROOT}.connectors", REPO / "connectors")):
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([prefix, *parts])] = path
    return found


def unit_of(module: str) -> str:
    rel = module[len(ROOT) + 1:] if module != ROOT else "__init__"
    first = rel.split(".")[0]
    if first != "app":
        return first
    parts = rel.split(".")
    if len(parts) >= 2 and parts[1] in ("records", "signing"):
        return f"app.{parts[1]}"
    return "app.platform" if rel in APP_PLATFORM else "app.face"


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith(ROOT):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith(ROOT))
    out.discard(module)
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imports_of(m, p, known) for m, p in known.items()}


def test_every_unit_has_a_rule(graph: dict[str, set[str]]) -> None:
    missing = sorted({unit_of(m) for m in graph} - set(ALLOWED))
    assert not missing, f"modules outside any rule (add the package to ALLOWED and ARCHITECTURE.md): {missing}"


def test_every_import_points_down(graph: dict[str, set[str]]) -> None:
    wrong = []
    for module, targets in sorted(graph.items()):
        unit = unit_of(module)
        for target in sorted(targets):
            other = unit_of(target)
            if other != unit and other not in ALLOWED.get(unit, set()):
                wrong.append(f"{module} -> {target} ({unit} may not import {other})")
    assert not wrong, "imports against the layout:\n" + "\n".join(wrong)


def test_connectors_import_nothing_of_the_application(graph: dict[str, set[str]]) -> None:
    for module, targets in graph.items():
        if module.startswith(f"{ROOT}.connectors"):
            assert all(t.startswith(f"{ROOT}.connectors") for t in targets), (module, targets)


def test_no_import_circles(graph: dict[str, set[str]]) -> None:
    # Tarjan's strongly connected components; any component of two or more is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_the_rules_catch_an_upward_import(tmp_path: Path) -> None:
    """The checker itself works: a stage importing the pipeline is reported."""
    bad = tmp_path / "m.py"
    bad.write_text("from ..pipeline import assemble\n", encoding="utf-8")
    known = {f"{ROOT}.pipeline": Path("pipeline.py"), f"{ROOT}.extract.m": bad}
    targets = imports_of(f"{ROOT}.extract.m", bad, known)
    assert targets == {f"{ROOT}.pipeline"}
    assert unit_of(f"{ROOT}.pipeline") not in ALLOWED[unit_of(f"{ROOT}.extract.m")]


def test_public_api_is_small() -> None:
    import handover_dossier

    assert set(handover_dossier.__all__) == {
        "Inventory", "__version__", "default_inventory", "load_inventory", "open_connector", "run", "verify_bundle",
    }
    for name in handover_dossier.__all__:
        assert getattr(handover_dossier, name) is not None
    from handover_dossier import connectors

    assert connectors.open is connectors.open_connector
