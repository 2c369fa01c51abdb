"""The office (Amt, Fachbereich) each member works for: the leadership report names offices,
never people.

A member sets their own with `!amt`, the chair or the coordination anyone's; without a
row here the config's `offices:` map decides. The caller passes that map in: storage
knows no config.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlmodel import Session, col, select

from storage.db import in_chunks
from storage.models import MemberOffice

# The column's length (storage.models.MemberOffice.office).
OFFICE_LIMIT = 200


def stored_office(db: Session, user_id: str) -> MemberOffice | None:
    """The row set with `!amt` for the member, if any (who set it, when)."""
    return db.get(MemberOffice, user_id)


def set_office(db: Session, user_id: str, office: str, *, by: str, at: dt.datetime) -> bool:
    """Store the member's office; False when it was already exactly that (nothing written)."""
    if not office or len(office) > OFFICE_LIMIT:
        raise ValueError(f"an office has 1 to {OFFICE_LIMIT} characters")
    row = db.get(MemberOffice, user_id)
    if row is not None and row.office == office:
        return False
    if row is None:
        row = MemberOffice(user_id=user_id, office=office, set_by=by, set_at=at)
    else:
        row.office, row.set_by, row.set_at = office, by, at
    db.add(row)
    db.flush()
    return True


def clear_office(db: Session, user_id: str) -> bool:
    """Remove the member's stored office; False when there was none."""
    row = db.get(MemberOffice, user_id)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True


def offices_of(
    db: Session, user_ids: Iterable[str], configured: Mapping[str, str]
) -> dict[str, str]:
    """The office of each of these members: the stored one (`!amt`) wins over the config's
    map; members without either are absent."""
    wanted = list(dict.fromkeys(user_ids))
    found = {u: configured[u] for u in wanted if u in configured}
    for chunk in in_chunks(wanted):
        stmt = select(MemberOffice).where(col(MemberOffice.user_id).in_(chunk))
        for row in db.exec(stmt):
            found[row.user_id] = row.office
    return {u: found[u] for u in wanted if u in found}


def all_offices(db: Session, configured: Mapping[str, str]) -> dict[str, str]:
    """Every member's office, the stored ones over the config's: for readers that do not
    know their members in advance (an export streams its rows). One row per member, so
    the whole table is small."""
    found = dict(configured)
    for row in db.exec(select(MemberOffice)):
        found[row.user_id] = row.office
    return found
