"""What every format reader returns, and the limits it must respect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ExtractionError(Exception):
    """The document cannot be read. ``reason`` is a user-facing Chinese sentence.

    The pipeline records the document as an exception with this reason; nothing crashes.
    """

    def __init__(self, reason: str, *, kind: str = "unreadable") -> None:
        super().__init__(reason)
        self.reason = reason
        #: machine-readable kind: empty, encrypted, corrupt, unsupported, too-large, timeout,
        #: not-a-document, bomb, unreadable, needs-tool
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    """Safety limits applied while reading untrusted documents."""

    #: Documents larger than this are catalogued but not opened for text.
    max_bytes: int = 512 * 1024 * 1024
    #: Upper bound on the total uncompressed size of a zip-based document (docx, xlsx, ofd).
    max_unzipped: int = 512 * 1024 * 1024
    #: Upper bound on the compression ratio of any zip member (zip-bomb guard).
    max_ratio: int = 200
    #: Characters of text kept per document from its beginning: the classifier reads the
    #: first 1,500 (and the extraction cache keeps 4,000); PDF pages are read until this
    #: many characters are in hand (then the last page, for the layout reader).
    max_chars: int = 6_000
    #: PDF pages read for text (page counts come from the document structure).
    max_pages: int = 8
    #: Last pages read besides the first ones: GB/T 9704 puts 发文机关署名, 成文日期 and
    #: 版记 at the end of a document.
    tail_pages: int = 1
    #: Spreadsheet rows read per sheet, and sheets read.
    max_rows: int = 40
    max_sheets: int = 8
    #: Seconds one document may take to read before it becomes an exception.
    timeout: float = 60.0
    #: Rendering resolution for OCR: 150 dpi sets 3号 body type (16 pt) 33 pixels high,
    #: what both recognisers read reliably; their cost is per line, not per pixel.
    ocr_dpi: int = 150
    #: Images larger than this many pixels are downscaled before OCR (decompression guard).
    max_pixels: int = 40_000_000
    #: Seconds an external tool (LibreOffice, Tesseract) may run for one document.
    tool_timeout: float = 45.0


@dataclass
class Extracted:
    """Text and metadata of one document."""

    format: str
    text: str = ""
    title: str = ""
    #: Pages with content; for word-processing files an estimate when the file has no count.
    pages: int | None = None
    #: Raw metadata from the file (author, created, subject...)
    meta: dict[str, str] = field(default_factory=dict)
    #: ISO date (YYYY-MM-DD, YYYY-MM or YYYY) of the document, from its content first.
    date: str = ""
    doc_number: str = ""
    responsible: str = ""
    secrecy: str = ""
    #: True when the title was composed by us (DA/T 22: self-composed titles go in [ ]).
    title_composed: bool = False
    #: The text layer is missing or unreliable: classify by name and ask a human.
    needs_review: bool = False
    #: Notes for the archivist (Chinese), e.g. "扩展名与内容不符".
    notes: list[str] = field(default_factory=list)
    encoding: str = ""
    #: Where each catalogue field came from: field name (title, responsible, date,
    #: doc_number, secrecy, pages) -> ``FieldValue.as_json()`` (value, source = part and
    #: line, confidence, review).
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: GB/T 9704 kind found by the layout reader: 文件, 函, 纪要, 讲话稿, 报告, 表格.
    layout_kind: str = ""
    #: The first line of a document without a heading (``guess_title`` of the text): not a
    #: 题名, but the classifier's best cue of the genre (``classifier_title``).
    lead: str = ""
    #: The reader's positioned lines (:class:`~.layout.Line`), handed to the layout reader
    #: and dropped before the result leaves the extract stage (never cached or pickled).
    layout: list[Any] | None = field(default=None, repr=False, compare=False)

    def classifier_title(self) -> tuple[str, bool]:
        """(title, composed) as the classifier reads it: the 题名, or for a document without
        one the first heading-like line of its text (the classifier was tuned on that)."""
        if self.title_composed and self.lead:
            return self.lead, False
        return self.title, self.title_composed
