"""What a file in a bundle is, whether it opens, and whether it carries active content.

Used by ``verify`` for two of the four properties of DA/T 70: usability (each file opens
with its format's reader) and security (no executables, macros or active content). The
checks are lighter than text extraction - open, count pages or sheets, decode - so that
verifying a large bundle years later stays quick. They parse bytes that came back from a DMS
(anyone with write access there may have replaced them), so they are bounded: Word
documents are streamed (a DOCX of millions of empty paragraphs costs a counter, not a
tree), images are sized from their header before anything is decoded, and verify runs
these checks in a capped worker process (:mod:`..runtime.sandbox`).
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
    except MemoryError:
        return Inspection(kind, False, f"{FORMAT_NAMES.get(kind, kind)} 检查时内存超出上限，已中止（可能是恶意构造的文件）",
                          hazards)
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


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _read_docx(path: Path) -> tuple[str, list[str]]:
    """Open the main part and walk it once, streamed: paragraphs and tables are counted and
    each element dropped as soon as it is seen (python-docx would build the whole tree:
    8.5 GB for a 2 MB document of empty paragraphs)."""
    from lxml import etree

    hazards = _ooxml_hazards(path)
    with zipfile.ZipFile(path) as zf:
        main = _docx_main_part(zf)
        paragraphs = tables = 0
        with zf.open(main) as fh:
            for _event, el in etree.iterparse(fh, events=("end",), resolve_entities=False, no_network=True,
                                              huge_tree=False, load_dtd=False):
                if el.tag == f"{_W}p":
                    paragraphs += 1
                elif el.tag == f"{_W}tbl":
                    tables += 1
                if el.getparent() is not None and el.tag in (f"{_W}p", f"{_W}tbl", f"{_W}sectPr"):
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:
                        del el.getparent()[0]
    return f"Word 文档可打开（{paragraphs} 段，{tables} 个表格）", hazards


def _docx_main_part(zf: zipfile.ZipFile) -> str:
    """The main document part named by the package (``word/document.xml`` normally)."""
    import re as _re

    names = set(zf.namelist())
    if "[Content_Types].xml" in names:
        types = zf.read("[Content_Types].xml")[:1 << 20].decode("utf-8", "replace")
        m = _re.search(r'PartName="/([^"]+)"\s+ContentType="application/vnd\.openxmlformats-officedocument\.'
                       r'wordprocessingml\.document\.main\+xml"', types)
        if m and m.group(1) in names:
            return m.group(1)
    if "word/document.xml" in names:
        return "word/document.xml"
    raise ValueError("缺少 Word 正文部件（word/document.xml）")


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


#: Largest image (pixels) whose data verify decodes; the header says the size before a
#: single pixel is decoded (a 0.9 MB PNG can declare 17000×17000 = 3 GB of pixels).
MAX_IMAGE_PIXELS = 100_000_000


def _read_image(path: Path) -> tuple[str, list[str]]:
    from PIL import Image

    try:
        im = Image.open(path)
    except Image.DecompressionBombError:
        raise ValueError("图片尺寸过大，超出可安全解码的上限，未解码") from None
    with im:
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            raise ValueError(f"图片尺寸过大（{w}×{h}），超出可安全解码的上限，未解码")
        im.verify()
    return f"图片可打开（{w}×{h}）", []


_READERS = {
    "pdf": _read_pdf,
    "docx": _read_docx,
    "xlsx": _read_xlsx,
    "text": _read_text,
    "json": _read_json,
    "ofd": _read_ofd,
    "image": _read_image,
}


@dataclass
class MemberCheck:
    """Usability, security and (for signed PDFs) signatures of one bundle member."""

    inspection: Inspection
    signatures: list = field(default_factory=list)  # list[signatures.SignatureResult]
    signature_error: str = ""


def check_member(path: Path, name: str, trust_roots: list | None = None) -> MemberCheck:
    """Everything verify asks of one member's bytes (run in a capped worker, see
    :func:`check_members`)."""
    from .signatures import SignatureError, has_signatures, validate_pdf

    ins = inspect_file(path, name.rsplit("/", 1)[-1])
    out = MemberCheck(ins)
    if ins.kind == "pdf" and ins.usable and has_signatures(path):
        try:
            out.signatures = validate_pdf(path, trust_roots)
        except SignatureError as exc:
            out.signature_error = str(exc)
        except MemoryError:
            out.signature_error = "签名检查时内存超出上限，已中止（可能是恶意构造的文件）"
    return out


def check_members(members: list[tuple[Path, str]], trust_roots: list | None = None, *,
                  timeout: float | None = None):
    """:func:`check_member` for each ``(path, name)``, in one capped worker process: a member
    that exhausts the memory cap, overruns the time limit or crashes its parser becomes an
    unusable member with the reason, and the next member gets a fresh worker. Yields
    ``(path, name, MemberCheck)`` in order."""
    from ..runtime.sandbox import CappedWorker, Overrun

    limit = timeout if timeout is not None else Limits().timeout
    with CappedWorker(limit) as worker:
        for path, name in members:
            try:
                result = worker.call(check_member, path, name, trust_roots)
            except Overrun as exc:
                result = MemberCheck(Inspection("unknown", False, f"可用性检查{exc.reason}"))
            yield path, name, result

