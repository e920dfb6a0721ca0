"""Passwords for encrypted documents, supplied by the archivist.

An encrypted PDF cannot be read, classified or kept for the long term as it is. The
archivist who knows its password writes it into a sidecar file -- ``dossier-passwords.csv``
at the source root, or any file named with ``--passwords`` -- one line per document::

    path,password
    01-机构人员/干部人事档案目录.pdf,Yx@2022

Paths are relative to the source root ('/'-separated), or a bare file name; ``#`` starts a
comment line. The sidecar itself is never catalogued, and a password never appears in a
message, a log, ``index.json`` or the bundle: :class:`Passwords` does not print its
values, and the pipeline keeps a decrypted copy (see :func:`.pdf.decrypt_pdf`), never the
password.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..lang.textnorm import nfc

#: File name of the sidecar looked for at the source root.
PASSWORDS_NAME = "dossier-passwords.csv"


class PasswordFileError(ValueError):
    """The passwords file cannot be used (message in Chinese, without any password)."""


class Passwords:
    """Source path (or bare file name) -> password. ``repr`` shows paths only."""

    def __init__(self, entries: dict[str, str] | None = None, origin: str = "") -> None:
        self._entries = {nfc(k).strip().strip("/"): v for k, v in (entries or {}).items()}
        self.origin = origin

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Passwords({len(self._entries)} 条, origin={self.origin!r})"

    def lookup(self, source: str) -> str | None:
        source = nfc(source).strip("/")
        found = self._entries.get(source)
        if found is None:
            found = self._entries.get(source.rsplit("/", 1)[-1])
        return found

    @classmethod
    def parse(cls, text: str, origin: str = "") -> Passwords:
        entries: dict[str, str] = {}
        problems: list[str] = []
        first = True
        for lineno, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
                continue
            header, first = first, False
            if header and row[0].strip().lower() in {"path", "路径", "source", "文件"}:
                continue
            if len(row) < 2 or row[1] == "":
                problems.append(f"第 {lineno} 行缺少密码")
                continue
            # The password is taken as written (spaces and commas inside quotes included).
            entries[row[0].strip()] = ",".join(row[1:]) if len(row) > 2 else row[1]
        if problems:
            raise PasswordFileError(f"密码文件 {origin} 有误：" + "；".join(problems))
        return cls(entries, origin)

    @classmethod
    def load(cls, path: str | Path) -> Passwords:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise PasswordFileError(f"找不到密码文件：{p}") from None
        except UnicodeDecodeError:
            raise PasswordFileError(f"密码文件不是 UTF-8 编码的文本：{p}") from None
        return cls.parse(text, origin=str(p))
