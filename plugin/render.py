"""Render the human-readable documents of a bundle from docxtpl templates.

Templates live in ``templates/`` so that archivists can restyle them in Word; this module
only fills them. Output is deterministic (fixed timestamps) and, on request, converted
to Traditional script.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from .i18n import ui
from .resources import templates_dir
from .ziputil import normalize_zip


class TemplateError(RuntimeError):
    """A template is missing or broken (message in Chinese)."""


def _localize(value: Any, lang: str) -> Any:
    if lang != "zh-Hant":
        return value
    if isinstance(value, str):
        return ui(value, lang)
    if isinstance(value, dict):
        return {k: _localize(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localize(v, lang) for v in value]
    return value


def render_docx(template: str, context: dict[str, Any], out: Path, *, when: datetime, lang: str = "zh-Hans") -> Path:
    """Fill ``templates/<template>`` with ``context`` and write ``out``."""
    from docxtpl import DocxTemplate

    path = templates_dir() / template
    if not path.exists():
        raise TemplateError(f"找不到模板文件：{path}")
    try:
        tpl = DocxTemplate(str(path))
        tpl.render(_localize(context, lang), autoescape=True)
        if lang == "zh-Hant":
            _localize_static_text(tpl)
        tpl.save(str(out))
    except TemplateError:
        raise
    except Exception as exc:  # jinja syntax errors in a user-edited template, etc.
        raise TemplateError(f"模板 {template} 渲染失败：{exc}") from exc
    normalize_zip(out, when)
    return out


def _localize_static_text(tpl: Any) -> None:
    """Convert the template's own fixed wording (headings, column names) to Traditional."""
    doc = tpl.docx
    for el in doc.element.body.iter():
        if el.tag.endswith("}t") and el.text:
            el.text = ui(el.text, "zh-Hant")
