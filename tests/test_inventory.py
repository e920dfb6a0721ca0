"""The inventory is data: parsed from TOML, Traditional accepted, errors in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from handover_dossier.inventory import InventoryError, default_inventory, load_inventory


def test_shipped_inventory() -> None:
    inv = default_inventory()
    assert inv.codes == ["A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "D4",
                         "E1", "F1", "P1", "P2"]
    assert inv.get("C6").name == "财务收支状况"
    assert inv.get("P1").retention == "永久" and inv.get("P1").retention_code == "Y"
    assert all(c.keywords for c in inv if c.code != "F1")


@pytest.mark.parametrize("text,code", [("C6", "C6"), ("c6", "C6"), ("财务收支状况", "C6"), ("財務收支狀況", "C6"),
                                       ("C6 财务收支状况", "C6"), ("未尽事宜", "E1"), ("不存在", None)])
def test_resolve(text: str, code: str | None) -> None:
    cat = default_inventory().resolve(text)
    assert (cat.code if cat else None) == code


def test_traditional_keywords_are_simplified(tmp_path: Path) -> None:
    p = tmp_path / "inv.toml"
    p.write_text('[[category]]\ncode="X1"\nname="會議紀要"\nkeywords=["會議紀要"]\n', encoding="utf-8")
    inv = load_inventory(p)
    assert inv.get("X1").name == "会议纪要" and inv.get("X1").keywords == ("会议纪要",)


@pytest.mark.parametrize(
    "body,message",
    [
        ("", "没有任何类目"),
        ('[[category]]\ncode="A1"\n', "缺少 code 或 name"),
        ('[[category]]\ncode="A1"\nname="x"\n[[category]]\ncode="A1"\nname="y"\n', "重复"),
        ('[[category]]\ncode="A1"\nname="x"\nretention="5年"\n', "保管期限"),
        ('[[category]]\ncode="A1"\nname="x"\nkeywords="abc"\n', "字符串列表"),
        ("[[category]\n", "格式错误"),
    ],
)
def test_errors(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "inv.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(InventoryError, match=message):
        load_inventory(p)
