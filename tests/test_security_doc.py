"""docs/SECURITY.md stays true: every test it names exists, and every finding has one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def named_tests(text: str) -> list[tuple[str, str]]:
    """(file, test) pairs: ``tests/test_x.py::test_y``, and ``::test_z`` after it (same file)."""
    found = []
    for line in text.splitlines():
        current = ""
        for m in re.finditer(r"`(tests/(test_\w+\.py))?::(test_\w+)`|`tests/(test_\w+\.py)`", line):
            if m.group(4):
                current = m.group(4)
                found.append((current, ""))
                continue
            current = m.group(2) or current
            found.append((current, m.group(3)))
    return found


def test_every_test_named_in_security_md_exists() -> None:
    text = (REPO / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    pairs = named_tests(text)
    assert len(pairs) > 30
    for file, name in pairs:
        path = REPO / "tests" / file
        assert path.is_file(), file
        if name:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in names, f"{file}::{name}"
    rows = [ln for ln in text.splitlines() if re.match(r"\| \d+ \|", ln)]
    assert len(rows) == 22
    for row in rows:
        assert "tests/test_" in row, row[:60]
