"""What a file in a bundle is, whether it opens, and whether it carries active content.

Used by ``verify`` for two of the four properties of DA/T 70: usability (each file opens
with its format's reader) and security (no executables, macros or active content). The
checks are lighter than text extraction - open, count pages or sheets, decode - so that
verifying a large bundle years later stays quick.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..extract.base import Limits
from ..extract.sniff import FORMAT_NAMES, sniff

_MACRO_PARTS = re.compile(r"(^|/)vbaProject\.bin$|(^|/)vbaData\.xml$", re.I)
_ACTIVEX_PARTS = re.compile(r"(^|/)activeX/", re.I)
_OLE_PARTS = re.compile(r"(^|/)embeddings/.*\.(bin|exe|dll|js|vbs)$", re.I)
_MACRO_TYPES = re.compile(rb"macroEnabled|vbaProject|ms-office\.activeX", re.I)
_PDF_ACTIVE = {
    "/JavaScript": "JavaScript 脚本",
    "/JS": "JavaScript 脚本",
    "/Launch": "启动外部程序的动作（/Launch）",
    "/EmbeddedFile": "嵌入的附件文件",
    "/RichMedia": "多媒体活动内容（/RichMedia）",
    "/SubmitForm": "表单提交动作",
    "/ImportData": "导入数据动作",
}
_EXEC_MAGIC = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")
_EXEC_EXT = re.compile(r"\.(exe|dll|bat|cmd|com|scr|msi|vbs|vbe|js|jse|wsf|jar|ps1|sh|hta|lnk|docm|xlsm|pptm|dotm|xltm)$",
                       re.I)


@dataclass
class Inspection:
    """The outcome for one file."""

    kind: str
    usable: bool
    usable_note: str
    hazards: list[str] = field(default_factory=list)


def inspect_file(path: Path, name: str, limits: Limits | None = None) -> Inspection:
    """Recognise ``path`` (``name`` is its name in the bundle), open it with its format's
    reader and look for active content. Never raises."""
    limits = limits or Limits()
    hazards: list[str] = []
    if _EXEC_EXT.search(name):
        hazards.append("扩展名表明是可执行程序、脚本或带宏文档")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        return Inspection("unknown", False, f"无法读取：{exc.strerror or exc}", hazards)
    if head.startswith(_EXEC_MAGIC):
        hazards.append("内容是可执行程序或脚本")
    try:
        kind = sniff(path, name, limits)
    except Exception as exc:  # a zip bomb or a broken archive: report, never crash verify
        reason = getattr(exc, "reason", None) or str(exc)
        return Inspection("unknown", False, f"无法识别格式：{reason}", hazards)
    if name.lower().endswith(".json") and kind == "text":
        kind = "json"
    reader = _READERS.get(kind)
    if reader is None:
        return Inspection(kind, False, f"不是档案通用格式（{FORMAT_NAMES.get(kind, kind)}），无法确认可读", hazards)
    try:
        note, found = reader(path)
    except Exception as exc:  # any reader failure is a usability finding, not a crash
        return Inspection(kind, False, f"{FORMAT_NAMES.get(kind, kind)} 无法打开：{_short(exc)}", hazards)
    hazards.extend(found)
    return Inspection(kind, True, note, hazards)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _ooxml_hazards(path: Path) -> list[str]:
    found = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        if any(_MACRO_PARTS.search(n) for n in names):
            found.append("含宏代码（vbaProject.bin）")
        if any(_ACTIVEX_PARTS.search(n) for n in names):
            found.append("含 ActiveX 控件")
        if any(_OLE_PARTS.search(n) for n in names):
            found.append("含嵌入的 OLE 对象或程序")
        if "[Content_Types].xml" in names and _MACRO_TYPES.search(zf.read("[Content_Types].xml")):
            found.append("内容类型声明为启用宏的文档")
    return sorted(set(found))


def _read_docx(path: Path) -> tuple[str, list[str]]:
    import docx

    doc = docx.Document(str(path))
    return f"Word 文档可打开（{len(doc.paragraphs)} 段，{len(doc.tables)} 个表格）", _ooxml_hazards(path)


def _read_xlsx(path: Path) -> tuple[str, list[str]]:
    import openpyxl

    wb = openpyxl.load_workbook(str(path), read_only=True)
    try:
        sheets = len(wb.sheetnames)
    finally:
        wb.close()
    return f"Excel 工作簿可打开（{sheets} 个工作表）", _ooxml_hazards(path)


def _read_pdf(path: Path) -> tuple[str, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        raise ValueError("PDF 已加密，长期保存的文件不得加密")
    pages = len(reader.pages)
    if pages == 0:
        raise ValueError("PDF 没有页面")
    return f"PDF 可打开（{pages} 页）", _pdf_hazards(reader, path.read_bytes())


_PDF_TOKENS = tuple(k.encode() for k in _PDF_ACTIVE)
_ESCAPED_NAME = re.compile(rb"/[A-Za-z]*#[0-9A-Fa-f]{2}")


def _pdf_hazards(reader, raw: bytes) -> list[str]:
    """Active content anywhere in the object graph. Objects stored plainly are screened
    by their bytes; the graph is parsed only where keys could hide (object streams,
    #-escaped names) or where the bytes suggest active content - parsing every object
    of a large tagged PDF costs more than all other checks together."""
    from pypdf.generic import DictionaryObject, IndirectObject

    found: set[str] = set()
    numbers: set[tuple[int, int]] = set()
    if any(tok in raw for tok in _PDF_TOKENS) or _ESCAPED_NAME.search(raw):
        for gen, table in reader.xref.items():
            numbers.update((num, gen) for num in table)
    numbers.update((num, 0) for num in reader.xref_objStm)
    for num, gen in sorted(numbers):
        try:
            obj = reader.get_object(IndirectObject(num, gen, reader))
        except Exception:  # a broken object is not active content
            continue
        if isinstance(obj, DictionaryObject):
            for key, label in _PDF_ACTIVE.items():
                if key in obj or obj.get("/S") == key or obj.get("/Type") == key:
                    found.add(label)
    trailer_root = reader.trailer.get("/Root")
    if trailer_root is not None:
        root = trailer_root.get_object()
        names = root.get("/Names")
        if names is not None and "/JavaScript" in names.get_object():
            found.add("JavaScript 脚本")
    return sorted(found)


def _read_text(path: Path) -> tuple[str, list[str]]:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        return f"文本可读（{enc.replace('-sig', '').upper()}，{len(text)} 字）", []
    raise ValueError("文本编码无法识别")


def _read_json(path: Path) -> tuple[str, list[str]]:
    json.loads(path.read_text(encoding="utf-8"))
    return "JSON 可解析", []


def _read_ofd(path: Path) -> tuple[str, list[str]]:
    with zipfile.ZipFile(path) as zf:
        names = {n.lower(): n for n in zf.namelist()}
        if "ofd.xml" not in names:
            raise ValueError("缺少 OFD.xml")
        from xml.etree import ElementTree

        ElementTree.fromstring(zf.read(names["ofd.xml"]))
    return "OFD 可打开", []


def _read_image(path: Path) -> tuple[str, list[str]]:
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
        size = im.size
    return f"图片可打开（{size[0]}×{size[1]}）", []


_READERS = {
    "pdf": _read_pdf,
    "docx": _read_docx,
    "xlsx": _read_xlsx,
    "text": _read_text,
    "json": _read_json,
    "ofd": _read_ofd,
    "image": _read_image,
}
