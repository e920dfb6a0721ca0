"""Benchmark corpus: N realistic documents of a departing official, deterministic and fast.

    .venv/bin/python bench/corpus.py DEST [--docs 2000] [--seed 7] [--scan-share 0.02]

The mix follows what a county bureau's shared drive holds (shares of documents):

======================  ======  =============================================================
kind                    share   sizes
======================  ======  =============================================================
DOCX                    34 %    10 KB - 3 MB: a fifth carry photos (JPEG) like real reports
text PDF                30 %    1-30 pages (text layer, GB/T 9704 layout), 4 - 80 KB
XLSX                    15 %    20-2,000 rows: rosters, ledgers, statements; 6 - 250 KB
TXT                     19 %    UTF-8, GBK or UTF-8 with BOM; 1 - 60 KB
scanned PDF             2 %     image-only pages (200 dpi grayscale JPEG, no text layer):
                                2-12 pages (1-8 MB); one scan in twenty has 30-60 pages (20-45 MB)
======================  ======  =============================================================

Names are Chinese, in nested folders ``<year>年/<股室>/<类别>/<title>（第NNNNN号）.ext``.
The content is the bundled sample corpus's (``handover_dossier.samplecorpus``: realistic
texts for every inventory code) rendered with ``handover_dossier.samplecorpus.docgen``; every document
carries its own serial number and year in its title and catalogue metadata, so no two
files have the same bytes (checked at the end) and extraction results differ too.

Speed: DOCX and XLSX writers cost ~50 ms a file, so a pool of distinct documents is
written once per kind and each file is a copy of a pool document with its title,
serial and year patched into the XML parts (a zip rewrite, ~2 ms); text PDFs and TXT
are written directly; a scan's first page (title and serial) is rendered per file, the
other pages come from a pool of rendered pages, and the PDF around the JPEG pages is
written by hand. Generation runs on every core. Deterministic: the same arguments give
the same bytes (and file mtimes).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import io
import json
import os
import random
import re
import sys
import time
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

#: Bump when the generated corpus changes (``--reuse-corpus`` checks it).
GENERATOR_VERSION = "2"

MIX = (("docx", 0.34), ("pdf", 0.30), ("xlsx", 0.15), ("txt", 0.19), ("scan", 0.02))
YEARS = tuple(range(2019, 2025))
DEPARTMENTS = ("办公室", "财务股", "综合规划股", "建设管理股", "运输管理股", "安全监督股")
UNIT = "云溪县交通运输局"
YEAR_PH = "YYYYBENCH"
SERIAL_PH = "SERIALBENCH"
POOL_SIZE = {"docx": 120, "xlsx": 60}
ZIP_WHEN = (2024, 6, 30, 9, 30, 0)
A4_200DPI = (1654, 2339)


@dataclass(frozen=True)
class Doc:
    """One planned document (small: the plan of 20,000 documents is a few MB)."""

    i: int
    kind: str
    rel: str
    spec: int
    year: int
    pool: int = 0
    pages: int = 1
    paragraphs: int = 6
    encoding: str = "utf-8"


def _specs() -> list[dict]:
    from handover_dossier.samplecorpus import DOCUMENTS

    return [dict(d) for d in DOCUMENTS]


def _text_specs(specs: list[dict]) -> list[int]:
    return [k for k, d in enumerate(specs) if d["kind"] in ("docx", "pdf", "txt") and d.get("paragraphs")]


def _sheet_specs(specs: list[dict]) -> list[int]:
    return [k for k, d in enumerate(specs) if d["kind"] == "xlsx" and d.get("sheet")]


def _title(spec: dict, year: int | str, serial: str) -> str:
    base = re.sub(r"(19|20)\d{2}", str(year), spec.get("title") or Path(spec["path"]).stem)
    return f"{base}（{serial}）"


def _category(spec: dict) -> str:
    folder = spec["path"].split("/")[0]
    return re.sub(r"^\d+-", "", folder) if folder not in ("备份", "新建文件夹") else "其他材料"


def plan(n: int, seed: int = 7, scan_share: float = 0.02) -> list[Doc]:
    """The corpus as a list of small records (deterministic for ``n``, ``seed``, share)."""
    rng = random.Random(seed)
    specs = _specs()
    text_specs, sheet_specs = _text_specs(specs), _sheet_specs(specs)
    others = sum(w for k, w in MIX if k != "scan")
    kinds = [k for k, _ in MIX]
    weights = [scan_share if k == "scan" else w * (1 - scan_share) / others for k, w in MIX]
    docs = []
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        year = rng.choice(YEARS)
        pool = rng.randrange(POOL_SIZE.get(kind, 1))
        if kind in POOL_SIZE:  # a copy of pool document ``pool``: named after its content
            spec = (sheet_specs if kind == "xlsx" else text_specs)[pool % len(sheet_specs if kind == "xlsx" else text_specs)]
        else:
            spec = rng.choice(text_specs)
        dept = rng.choice(DEPARTMENTS)
        folder = f"{year}年/{dept}/{_category(specs[spec])}"
        if rng.random() < 0.25:
            folder += f"/{rng.choice(('上半年', '下半年', '定稿'))}"
        ext = {"docx": ".docx", "pdf": ".pdf", "xlsx": ".xlsx", "txt": ".txt", "scan": ".pdf"}[kind]
        name = _title(specs[spec], year, f"第{i:05d}号")
        if kind == "scan":
            name = f"扫描件-{name}"
        pages = 1
        if kind == "pdf":
            pages = min(30, 1 + int(rng.expovariate(1 / 3)))
        elif kind == "scan":
            pages = rng.randint(30, 60) if rng.random() < 0.05 else rng.randint(2, 12)
        paragraphs = min(400, 3 + int(rng.expovariate(1 / 25))) if kind == "txt" else 6
        encoding = rng.choices(("utf-8", "gbk", "utf-8-sig"), (6, 3, 1))[0]
        docs.append(Doc(i, kind, f"{folder}/{name}{ext}", spec, year, pool, pages, paragraphs, encoding))
    return docs


# ---------------------------------------------------------------------------- images
def _font(size: int):
    from PIL import ImageFont

    for path in ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
                 "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def _paper(seed: int):
    """A grey A4 page at 200 dpi with scanner noise (what makes scans weigh MBs)."""
    import numpy as np
    from PIL import Image

    w, h = A4_200DPI
    noise = np.random.default_rng(seed).normal(228, 14, (h // 2, w // 2)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(noise, "L").resize((w, h))


def scan_page(lines: list[str], title: str | None, seed: int) -> bytes:
    """One scanned page as JPEG bytes (deterministic for its arguments)."""
    from PIL import ImageDraw

    img = _paper(seed)
    draw = ImageDraw.Draw(img)
    y = 220
    if title:
        draw.text((260, y), title[:22], font=_font(58), fill=15)
        y += 170
    body = _font(40)
    for line in lines:
        draw.text((170, y), line, font=body, fill=25)
        y += 68
        if y > A4_200DPI[1] - 220:
            break
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _wrap(paragraphs: list[str], width: int = 32) -> list[str]:
    lines = []
    for p in paragraphs:
        p = "　　" + p
        lines += [p[k:k + width] for k in range(0, len(p), width)]
    return lines


def write_scan_pdf(path: Path, pages: list[bytes], title: str) -> None:
    """A PDF of JPEG page images and nothing else (no text layer), written by hand."""
    w, h = A4_200DPI
    pw, ph = 595.28, 841.89
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{3 + 3 * k} 0 R" for k in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    for k, jpeg in enumerate(pages):
        img, content = 4 + 3 * k, 5 + 3 * k
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw} {ph}] /Resources << /XObject << /Im0 {img} 0 R >> "
                    f">> /Contents {content} 0 R >>".encode())
        objs.append(f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray "
                    f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n".encode() + jpeg
                    + b"\nendstream")
        draw = f"q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q".encode()
        objs.append(f"<< /Length {len(draw)} >>\nstream\n".encode() + draw + b"\nendstream")
    info = 3 + 3 * n
    objs.append(b"<< /Title <FEFF" + title.encode("utf-16-be").hex().upper().encode() + b"> /Producer (Scanner) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{num} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def photo(seed: int, size: tuple[int, int]) -> bytes:
    """A photo-like colour JPEG (noise over a gradient: does not compress away)."""
    import numpy as np
    from PIL import Image

    w, h = size
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 210, w)[None, :, None] + np.linspace(0, 40, h)[:, None, None]
    pixels = (ramp + rng.normal(0, 30, (h, w, 3))).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


# ---------------------------------------------------------------------------- pools
def _when(year: int) -> datetime:
    return datetime(year, 6, 15, 9, 30)


def _pool_docx(path: Path, j: int, specs: list[dict]) -> None:
    from docx import Document
    from docx.shared import Cm
    from handover_dossier import docgen

    text_specs = _text_specs(specs)
    spec = specs[text_specs[j % len(text_specs)]]
    paragraphs = list(spec["paragraphs"])
    paragraphs = (paragraphs * (1 + (j * 7) % 9))[: max(3, (j * 13) % 60)]
    title = _title(spec, YEAR_PH, SERIAL_PH)
    docgen.write_docx(path, title, paragraphs, issuer=spec.get("issuer") or UNIT,
                      doc_number=f"云交发〔{YEAR_PH}〕{SERIAL_PH}", date_text=f"{YEAR_PH}年6月15日",
                      core_title=title, when=_when(2024))
    photos = 3 if j % 11 == 0 else 1 if j % 5 == 0 else 0
    if photos:
        doc = Document(str(path))
        for k in range(photos):
            side = 500 + (j * 131 + k * 97) % 1100
            doc.add_picture(io.BytesIO(photo(j * 10 + k, (side, side * 3 // 4))), width=Cm(14))
        buf = io.BytesIO()
        doc.save(buf)
        path.write_bytes(buf.getvalue())


def _pool_xlsx(path: Path, j: int, specs: list[dict]) -> None:
    from handover_dossier import docgen

    sheet_specs = _sheet_specs(specs)
    spec = specs[sheet_specs[j % len(sheet_specs)]]
    title = _title(spec, YEAR_PH, SERIAL_PH)
    sheets = {}
    target = 20 + (j * 37) % 2000 if j % 4 == 0 else 20 + (j * 11) % 120
    for s in spec["sheet"]:
        rows = [list(r) for r in s["rows"]]
        caption, data = ([title], rows[1:]) if len(rows[0]) == 1 else ([title], rows)
        header, body = data[0], data[1:] or [data[0]]
        grown = []
        while len(grown) < target:
            for r in body:
                grown.append([v + len(grown) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in r])
        sheets[str(s["name"])[:31]] = [caption, header, *grown[:target]]
    docgen.write_xlsx(path, sheets, core_title=title, when=_when(2024))


def _build_pool(kind: str, j: int, folder: str) -> str:
    specs = _specs()
    path = Path(folder) / f"{kind}-{j:03d}.{kind}"
    if kind == "docx":
        _pool_docx(path, j, specs)
    else:
        _pool_xlsx(path, j, specs)
    return str(path)


def _patched_zip(pool: Path, replace: dict[str, str]) -> bytes:
    """A copy of an Office file with placeholders replaced in its XML parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(pool) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".xml"):
                text = data.decode("utf-8")
                for k, v in replace.items():
                    text = text.replace(k, v)
                data = text.encode("utf-8")
            new = zipfile.ZipInfo(info.filename, date_time=ZIP_WHEN)
            binary = info.filename.lower().endswith((".jpeg", ".jpg", ".png"))
            new.compress_type = zipfile.ZIP_STORED if binary else zipfile.ZIP_DEFLATED
            dst.writestr(new, data, compresslevel=6)
    return out.getvalue()


# ---------------------------------------------------------------------------- documents
_PAGE_POOL: list[bytes] = []


def _scan_pages(specs: list[dict]) -> list[bytes]:
    if not _PAGE_POOL:
        text_specs = _text_specs(specs)
        for k in range(12):
            spec = specs[text_specs[(k * 5) % len(text_specs)]]
            _PAGE_POOL.append(scan_page(_wrap(list(spec["paragraphs"]) * 3), None, 1000 + k))
    return _PAGE_POOL


def write_doc(doc: Doc, root: str, pools: str) -> tuple[str, int]:
    from handover_dossier import docgen

    specs = _specs()
    spec = specs[doc.spec]
    path = Path(root) / doc.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    serial = f"第{doc.i:05d}号"
    title = _title(spec, doc.year, serial)
    issuer = spec.get("issuer") or UNIT
    paragraphs = [f"{p}" for p in spec.get("paragraphs") or []]
    date_text = f"{doc.year}年{1 + doc.i % 12}月{1 + doc.i % 28}日"
    if doc.kind in ("docx", "xlsx"):
        pool = Path(pools) / f"{doc.kind}-{doc.pool:03d}.{doc.kind}"
        path.write_bytes(_patched_zip(pool, {YEAR_PH: str(doc.year), SERIAL_PH: serial}))
    elif doc.kind == "pdf":
        docgen.write_pdf(path, title, [*paragraphs, f"（本件编号：{serial}）"], issuer=issuer,
                         doc_number=f"云交发〔{doc.year}〕{doc.i}号", date_text=date_text, pages_min=doc.pages,
                         when=_when(doc.year))
    elif doc.kind == "txt":
        body = (paragraphs * (1 + doc.paragraphs // max(1, len(paragraphs))))[: doc.paragraphs]
        docgen.write_txt(path, title, [*body, f"本件编号：{serial}"], encoding=doc.encoding, issuer=issuer,
                         date_text=date_text)
    else:  # scan
        pool = _scan_pages(specs)
        first = scan_page(_wrap(paragraphs)[:22], title, doc.i)
        rest = [pool[(doc.i + k) % len(pool)] for k in range(doc.pages - 1)]
        write_scan_pdf(path, [first, *rest], title)
    stamp = _when(doc.year).timestamp() + doc.i
    os.utime(path, (stamp, stamp))
    return doc.rel, path.stat().st_size


@dataclass
class Manifest:
    version: str
    docs: int
    seed: int
    scan_share: float
    files: int
    bytes: int
    by_kind: dict[str, dict[str, int]]
    seconds: float


def manifest_path(root: Path) -> Path:
    return root.with_name(root.name + ".corpus.json")


def generate(root: str | Path, n: int = 2000, seed: int = 7, scan_share: float = 0.02,
             processes: int | None = None) -> Manifest:
    """Write the corpus into ``root`` (which must not exist yet or be empty); the manifest
    goes beside it (``<root>.corpus.json``), outside the tree that is served."""
    t0 = time.perf_counter()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise SystemExit(f"{root} is not empty")
    pools = root.with_name(root.name + ".pools")
    pools.mkdir(exist_ok=True)
    docs = plan(n, seed, scan_share)
    processes = processes or os.cpu_count() or 1
    with cf.ProcessPoolExecutor(processes) as ex:
        need = {(d.kind, d.pool) for d in docs if d.kind in POOL_SIZE}
        list(ex.map(_build_pool, [k for k, _ in sorted(need)], [j for _, j in sorted(need)],
                    [str(pools)] * len(need)))
        sizes = dict(ex.map(write_doc, docs, [str(root)] * n, [str(pools)] * n, chunksize=16))
    by_kind: dict[str, dict[str, int]] = {}
    for d in docs:
        k = by_kind.setdefault(d.kind, {"files": 0, "bytes": 0, "max": 0})
        k["files"] += 1
        k["bytes"] += sizes[d.rel]
        k["max"] = max(k["max"], sizes[d.rel])
    digests: dict[str, str] = {}
    for p in root.rglob("*"):
        if p.is_file():
            h = hashlib.sha256()
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            other = digests.setdefault(h.hexdigest(), str(p))
            if other != str(p):
                raise SystemExit(f"duplicate content: {other} and {p}")
    m = Manifest(GENERATOR_VERSION, n, seed, scan_share, len(digests), sum(sizes.values()), by_kind,
                 round(time.perf_counter() - t0, 1))
    manifest_path(root).write_text(json.dumps(asdict(m), ensure_ascii=False, indent=1), encoding="utf-8")
    return m


def existing(root: str | Path, n: int, seed: int, scan_share: float) -> Manifest | None:
    """The manifest of a complete corpus generated earlier with these arguments, or None."""
    try:
        data = json.loads(manifest_path(Path(root)).read_text(encoding="utf-8"))
        m = Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None
    if (m.version, m.docs, m.seed, m.scan_share) != (GENERATOR_VERSION, n, seed, scan_share):
        return None
    files = sum(1 for p in Path(root).rglob("*") if p.is_file())
    return m if files == m.files else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scan-share", type=float, default=0.02)
    args = ap.parse_args()
    m = generate(args.dest, args.docs, args.seed, args.scan_share)
    print(json.dumps(asdict(m), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
