"""Handover cases and their deadline.

The rules give 7–15 days from the announcement of a post change to a completed handover. A
case records who hands over what to whom and when it was announced; the status page lists
open cases with the days left, and :func:`check_deadlines` (run by the poller) notifies the
archivist once when a case passes ``draft_days`` without a draft bundle and once when it
passes ``deadline_days`` without a signed, filed bundle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from .owner import SYSTEM, Principal, scoped
from .store import cases, now


class CaseError(ValueError):
    """Bad case data (message in Chinese)."""


@dataclass
class Case:
    id: int
    leader: str
    post: str
    unit: str
    announced: str
    incoming: str
    term_start: str
    term_end: str
    folder: str
    user: str
    status: str
    draft_at: float | None
    filed_at: float | None
    notified_draft: bool
    notified_deadline: bool

    @classmethod
    def from_row(cls, r: Any) -> Case:
        m = r._mapping
        return cls(**{k: m[k] for k in cls.__dataclass_fields__})

    def elapsed(self, today: dt.date) -> int:
        return (today - dt.date.fromisoformat(self.announced)).days

    def days_left(self, today: dt.date, limit: int) -> int:
        return limit - self.elapsed(today)

    def as_json(self, today: dt.date, limit: int) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["elapsed_days"] = self.elapsed(today)
        d["days_left"] = self.days_left(today, limit)
        d["deadline"] = (dt.date.fromisoformat(self.announced) + dt.timedelta(days=limit)).isoformat()
        return d


def _date(value: str, what: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise CaseError(f"{what}应为 YYYY-MM-DD 格式的日期：{value}") from None


def open_case(engine: Engine, *, leader: str, announced: str, post: str = "", unit: str = "", incoming: str = "",
              term_start: str = "", term_end: str = "", folder: str = "", user: str) -> Case:
    """Record a case owned by ``user`` (the request's Nextcloud user): only that user's
    assemblies take their leader, unit and term from it."""
    if not user:
        raise CaseError("交接案件必须属于一个用户")
    if not leader.strip():
        raise CaseError("请填写离任领导姓名")
    if len(leader.strip()) > 64 or any(len(v) > 255 for v in (post, unit, incoming, folder)):
        raise CaseError("填写的内容过长")
    announced = _date(announced, "宣布任职变动的日期")
    term_start = _date(term_start, "任期开始") if term_start else ""
    term_end = _date(term_end, "任期结束") if term_end else ""
    if folder:
        from ...connectors import ConnectorError
        from ..dms import norm

        try:
            folder = norm(folder)
        except ConnectorError as exc:
            raise CaseError(str(exc)) from None
    with engine.begin() as c:
        cid = c.execute(cases.insert().values(
            leader=leader.strip(), post=post.strip(), unit=unit.strip(), announced=announced, incoming=incoming.strip(),
            term_start=term_start, term_end=term_end, folder=folder, user=user, status="open", created=now(),
            notified_draft=False, notified_deadline=False,
        )).inserted_primary_key[0]
    case = get_case(engine, int(cid))
    assert case is not None
    return case


def get_case(engine: Engine, case_id: int) -> Case | None:
    """The case by id, unscoped (the service's own bookkeeping)."""
    with engine.connect() as c:
        r = c.execute(select(cases).where(cases.c.id == case_id)).first()
    return Case.from_row(r) if r else None


def list_cases(engine: Engine, *, viewer: Principal, open_only: bool = True) -> list[Case]:
    """The cases ``viewer`` may see, oldest announcement first."""
    q = scoped(select(cases).order_by(cases.c.announced, cases.c.id), cases.c.user, viewer)
    if open_only:
        q = q.where(cases.c.status == "open")
    with engine.connect() as c:
        return [Case.from_row(r) for r in c.execute(q)]


def find_case_for(engine: Engine, folder: str, user: str) -> Case | None:
    """The open case of ``user`` a source folder belongs to: the one opened for that folder,
    else the one whose leader's name appears in the folder path. Only the user's own cases
    count: another user's case never lends its leader, unit or filing place to this one's
    assembly (whatever folder or leader name it names)."""
    if not user:
        return None
    open_cases = list_cases(engine, viewer=Principal(user))
    for case in open_cases:
        if case.folder and case.folder == folder:
            return case
    for case in open_cases:
        if not case.folder and case.leader and case.leader in folder:
            return case
    return None


def mark(engine: Engine, case_id: int, **values: Any) -> None:
    with engine.begin() as c:
        c.execute(update(cases).where(cases.c.id == case_id).values(**values))


def check_deadlines(engine: Engine, notifier: Any, *, today: dt.date, draft_days: int, deadline_days: int,
                    default_user: str = "") -> list[tuple[int, str]]:
    """Send the due deadline notifications (each at most once per case); returns (case, kind)."""
    sent = []
    for case in list_cases(engine, viewer=SYSTEM):
        elapsed = case.elapsed(today)
        who = case.user or default_user
        name = f"{case.unit}{case.post}{case.leader}"
        if case.draft_at is None and not case.notified_draft and elapsed >= draft_days:
            notifier.notify(who, "deadline-draft", f"交接案件提醒：{name}尚无档案包草稿",
                            f"职务变动宣布已 {elapsed} 天（{case.announced}），仍未生成交接档案包草稿；"
                            f"距 {deadline_days} 天的交接期限还剩 {deadline_days - elapsed} 天。",
                            object_id=f"case-{case.id}-draft")
            mark(engine, case.id, notified_draft=True)
            sent.append((case.id, "draft"))
        if case.filed_at is None and not case.notified_deadline and elapsed >= deadline_days:
            notifier.notify(who, "deadline-limit", f"交接案件已超期：{name}",
                            f"职务变动宣布已 {elapsed} 天（{case.announced}），超过 {deadline_days} 天的交接期限，"
                            "仍没有签署完成并归档的交接档案包。",
                            object_id=f"case-{case.id}-deadline")
            mark(engine, case.id, notified_deadline=True)
            sent.append((case.id, "deadline"))
    return sent
