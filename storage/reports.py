"""The log of monthly reports for the leadership: each month's report is queued once."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from storage.models import ReportLog


def logged(db: Session, key: str) -> ReportLog | None:
    return db.exec(select(ReportLog).where(ReportLog.key == key)).first()


def log_report(
    db: Session, key: str, *, room_id: str, period_start: dt.date, at: dt.datetime
) -> ReportLog:
    row = ReportLog(key=key, room_id=room_id, period_start=period_start, posted_at=at)
    db.add(row)
    db.flush()
    return row
