"""The app's durable state: one SQLAlchemy schema, SQLite by default, PostgreSQL by URL.

Jobs, drafts awaiting signature, signature checks, the registry of filed bundles, the access
log, handover cases and notifications all live here, so that a restart of the service loses
nothing and resumes where it stopped. Times are UTC epoch seconds (portable across engines).
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    #: Deduplication key: the same work (e.g. the same folder at the same etag) is queued once.
    Column("key", String(700), nullable=False, unique=True),
    Column("status", String(16), nullable=False, index=True),  # queued running done failed
    Column("user", String(255), nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),
    Column("payload", Text, nullable=False, default="{}"),
    Column("progress", Text, nullable=False, default="{}"),
    Column("result", Text, nullable=False, default="{}"),
    Column("error", Text, nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    Column("started", Float),
    Column("finished", Float),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, nullable=False),
    Column("user", String(255), nullable=False, default=""),
    Column("source_path", Text, nullable=False),
    Column("source_id", String(255), nullable=False, default=""),
    Column("source_etag", String(255), nullable=False, default=""),
    Column("handover_path", Text, nullable=False),
    Column("draft_name", Text, nullable=False),
    #: SHA-256 of the draft bundle the 交接书 certifies: a signed copy is accepted only when
    #: it names exactly this digest (app/signing/check.py).
    Column("draft_sha256", String(64), nullable=False, default=""),
    #: Digest of the draft's catalogue (each item's source and SHA-256): the final bundle must
    #: hold exactly these documents (plus the signed 交接书) -- what the signers certified.
    Column("content_digest", String(64), nullable=False, default=""),
    Column("cert_name", Text, nullable=False),
    Column("cert_key", String(255), nullable=False, default=""),
    Column("cert_etag", String(255), nullable=False, default=""),
    Column("meta", Text, nullable=False, default="{}"),
    Column("archival_code", String(255), nullable=False, default=""),
    #: awaiting (out for signature), confirm (signed validly, signer identity not verified:
    #: waits for an archivist), archived, superseded (a newer draft of the folder exists)
    Column("status", String(16), nullable=False, index=True),
    Column("case_id", Integer),
    #: The signed check waiting for confirmation, and who confirmed it.
    Column("confirm_check_id", Integer),
    Column("confirmed_by", String(255), nullable=False, default=""),
    Column("confirmed_at", Float),
    Column("created", Float, nullable=False),
    Column("archived_at", Float),
    Column("bundle_id", Integer),
)

signed_checks = Table(
    "signed_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", Integer, ForeignKey("drafts.id"), nullable=False),
    Column("file_key", String(255), nullable=False),
    Column("etag", String(255), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("ok", Boolean, nullable=False, default=False),
    Column("result", Text, nullable=False, default="{}"),
    Column("created", Float, nullable=False),
    UniqueConstraint("draft_id", "file_key", "etag", name="uq_signed_check"),
)

bundles = Table(
    "bundles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("draft_id", Integer, unique=True),
    Column("archival_code", String(255), nullable=False, index=True),
    Column("leader", String(255), nullable=False, default="", index=True),
    Column("post", String(255), nullable=False, default=""),
    Column("unit", String(255), nullable=False, default="", index=True),
    Column("term_start", String(10), nullable=False, default=""),
    Column("term_end", String(10), nullable=False, default=""),
    Column("year_from", Integer),
    Column("year_to", Integer),
    Column("created", String(32), nullable=False, default=""),
    Column("filed_at", Float, nullable=False),
    Column("dms", String(16), nullable=False),
    Column("user", String(255), nullable=False, default=""),
    Column("folder", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("items", Integer, nullable=False, default=0),
    Column("exceptions", Integer, nullable=False, default=0),
    Column("counts", Text, nullable=False, default="{}"),
    Column("signatures", Text, nullable=False, default="{}"),
    Column("source", Text, nullable=False, default=""),
)

bundle_items = Table(
    "bundle_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bundle_id", Integer, ForeignKey("bundles.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("code", String(16), nullable=False),
    Column("category", String(64), nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),
    Column("date", String(10), nullable=False, default=""),
    Column("archival_code", String(255), nullable=False, default=""),
)

bundle_categories = Table(
    "bundle_categories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bundle_id", Integer, ForeignKey("bundles.id"), nullable=False, index=True),
    Column("code", String(16), nullable=False),
    Column("name", String(64), nullable=False, default=""),
    Column("count", Integer, nullable=False, default=0),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("who", String(255), nullable=False),
    Column("what", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("result", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("leader", String(255), nullable=False),
    Column("post", String(255), nullable=False, default=""),
    Column("unit", String(255), nullable=False, default=""),
    Column("announced", String(10), nullable=False),
    Column("incoming", String(255), nullable=False, default=""),
    Column("term_start", String(10), nullable=False, default=""),
    Column("term_end", String(10), nullable=False, default=""),
    Column("folder", Text, nullable=False, default=""),
    Column("user", String(255), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open"),  # open closed
    Column("created", Float, nullable=False),
    Column("draft_at", Float),
    Column("filed_at", Float),
    Column("notified_draft", Boolean, nullable=False, default=False),
    Column("notified_deadline", Boolean, nullable=False, default=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(255), nullable=False, default=""),
    Column("kind", String(32), nullable=False),
    Column("object_id", String(255), nullable=False, default=""),
    Column("subject", Text, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("link", Text, nullable=False, default=""),
    Column("created", Float, nullable=False),
    Column("sent", Boolean, nullable=False, default=False),
    Column("error", Text, nullable=False, default=""),
)


def now() -> float:
    return time.time()


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else {}


def open_engine(url: str) -> Engine:
    """Create the engine and the tables (idempotent). SQLite gets WAL and a busy timeout so
    that worker threads, the web server and a CLI process can share the file."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        _private_file(url)
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _private_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600; SQLite gives its
    -wal and -shm files the same mode)."""
    import os

    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:" or "?" in path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        if os.stat(path).st_uid == os.getuid():
            os.chmod(path, 0o600)
    except OSError:
        pass


def _add_missing_columns(engine: Engine) -> None:
    """Columns added to a table after a database was created are added to it (nullable or
    with their default), so an existing data folder keeps working after an upgrade."""
    from sqlalchemy import inspect, text

    insp = inspect(engine)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in insp.get_columns(table.name)}
        for col in table.columns:
            if col.name in have:
                continue
            ddl = col.type.compile(dialect=engine.dialect)
            default = ""
            if col.default is not None and getattr(col.default, "is_scalar", False):
                value = col.default.arg
                default = f" DEFAULT {int(value)}" if isinstance(value, bool | int) else f" DEFAULT '{value}'"
            null = "" if col.nullable or default else " NULL"
            with engine.begin() as c:
                c.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {ddl}{default}{null}'))
