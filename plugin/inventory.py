"""The basic-materials inventory, read from ``templates/inventory.toml``.

Units refine the list for themselves, so no category is ever named in code: the
classifier, the catalogue and the gap report all iterate over :class:`Inventory`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .lang.textnorm import to_simplified
from .runtime.resources import templates_dir

RETENTIONS = {"永久": "Y", "定期30年": "D30", "定期10年": "D10"}


class InventoryError(ValueError):
    """The inventory file is malformed (message in Chinese, names the field)."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    group: str
    description: str
    retention: str = "永久"
    keywords: tuple[str, ...] = ()
    text_keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    public: bool = True
    one_sided: str = ""

    @property
    def label(self) -> str:
        """``C2 工作总结`` - how the category is shown to users."""
        return f"{self.code} {self.name}"

    @property
    def retention_code(self) -> str:
        return RETENTIONS.get(self.retention, "Y")

    @property
    def folder(self) -> str:
        """Folder name inside the bag's ``data/``."""
        return f"{self.code}-{self.name}"


@dataclass(frozen=True)
class Inventory:
    title: str
    version: str
    categories: tuple[Category, ...]
    groups: dict[str, str] = field(default_factory=dict)
    review_threshold: float = 0.55
    fallback: str = "F1"
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {c.code: c for c in self.categories})

    def __iter__(self):
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code  # type: ignore[attr-defined]

    def get(self, code: str) -> Category:
        try:
            return self._by_code[code]  # type: ignore[attr-defined]
        except KeyError:
            raise InventoryError(f"清单中没有类目代码 {code}") from None

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

    def order(self, code: str) -> int:
        return self.codes.index(code)

    def resolve(self, text: str) -> Category | None:
        """Find a category from a user's spelling: ``C6``, ``c6``, ``财务收支状况``, ``財務收支狀況``, ``C6 财务收支状况``."""
        t = to_simplified(text.strip())
        if not t:
            return None
        head = t.split()[0].upper()
        if head in self._by_code:  # type: ignore[attr-defined]
            return self._by_code[head]  # type: ignore[attr-defined]
        for c in self.categories:
            if t == c.name or t.endswith(c.name):
                return c
        return None


def _tuple(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InventoryError(f"{where} 必须是字符串列表")
    # Keywords may be written in Traditional script; match on Simplified.
    return tuple(to_simplified(v) for v in value if v.strip())


def load_inventory(path: str | Path | None = None) -> Inventory:
    """Parse an inventory TOML file (default: the shipped ``templates/inventory.toml``)."""
    p = Path(path) if path else templates_dir() / "inventory.toml"
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InventoryError(f"找不到清单文件：{p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"清单文件格式错误（{p}）：{exc}") from None
    head = data.get("inventory", {})
    cats = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("category", []), 1):
        where = f"第 {i} 个类目"
        code = str(raw.get("code", "")).strip()
        name = to_simplified(str(raw.get("name", "")).strip())
        if not code or not name:
            raise InventoryError(f"{where}缺少 code 或 name")
        if code in seen:
            raise InventoryError(f"类目代码 {code} 重复")
        seen.add(code)
        retention = to_simplified(str(raw.get("retention", "永久")))
        if retention not in RETENTIONS:
            raise InventoryError(f"{code} 的保管期限“{retention}”无效，应为 永久、定期30年 或 定期10年")
        cats.append(
            Category(
                code=code,
                name=name,
                group=str(raw.get("group", code[:1])),
                description=to_simplified(str(raw.get("description", ""))),
                retention=retention,
                keywords=_tuple(raw.get("keywords"), f"{code}.keywords"),
                text_keywords=_tuple(raw.get("text_keywords"), f"{code}.text_keywords"),
                exclude=_tuple(raw.get("exclude"), f"{code}.exclude"),
                public=bool(raw.get("public", True)),
                one_sided=str(raw.get("one_sided", "")),
            )
        )
    if not cats:
        raise InventoryError(f"清单文件 {p} 中没有任何类目")
    inv = Inventory(
        title=str(head.get("title", "领导干部离任交接基本材料清单")),
        version=str(head.get("version", "")),
        categories=tuple(cats),
        groups={str(k): str(v) for k, v in data.get("groups", {}).items()},
        review_threshold=float(head.get("review_threshold", 0.55)),
        fallback=str(head.get("fallback", cats[-1].code)),
        source=str(p),
    )
    if inv.fallback not in inv:
        raise InventoryError(f"fallback 类目 {inv.fallback} 不在清单中")
    return inv


@lru_cache(maxsize=8)
def default_inventory() -> Inventory:
    return load_inventory()
