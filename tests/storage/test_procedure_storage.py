"""The rules of procedure at work in the database, on SQLite and PostgreSQL: the chair's
parameters and voting members, `gremienbot forget` in every new table (rules, voting
members, decisions, agenda requests, objections to minutes, the roll call's answer), and a
dump that carries them all and refuses values the bot never writes."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import SQLModel, select

from storage import dump, erasure
from storage import procedure as store
from storage.db import Database
from storage.models import (
    AgendaKind,
    AgendaRequest,
    AttendanceStatus,
    Decision,
    DecisionKind,
    DecisionOutcome,
    Meeting,
    MeetingAttendee,
    MinutesObjection,
    ProcedureRules,
)
from tests import seed
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR

ROOM = "!schule:example.org"
OTHER = "!jugend:example.org"
AT = dt.datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)
PSEUDONYM = "ehemaliges Mitglied 1"


def test_the_chairs_parameters_are_kept_with_who_and_when_and_can_be_cleared(
    db: Database,
) -> None:
    later = AT + dt.timedelta(days=3)
    with db.session() as s:
        seed.room(s, ROOM)
        assert store.rules_params(s, ROOM) is None
        store.set_rules_params(s, ROOM, {"invitation_days": 14}, by=CHAIR, at=AT)
        store.set_rules_params(s, ROOM, {"invitation_days": 21, "quorum": {}}, by=ANNA, at=later)
    with db.session() as s:
        assert store.rules_params(s, ROOM) == {"invitation_days": 21, "quorum": {}}
        row = store.rules_row(s, ROOM)
        assert row is not None
        assert (row.set_by, row.set_at) == (ANNA, later)
        assert store.clear_rules_params(s, ROOM)
        assert not store.clear_rules_params(s, ROOM)
        assert store.rules_params(s, ROOM) is None


def test_voting_members_are_replaced_whole_and_none_means_everyone(db: Database) -> None:
    with db.session() as s:
        seed.room(s, ROOM)
        seed.room(s, OTHER)
        store.set_voting_members(s, ROOM, [CARLA, ANNA, CARLA], by=CHAIR, at=AT)
        store.set_voting_members(s, OTHER, [BEN], by=CHAIR, at=AT)
    with db.session() as s:
        assert store.voting_members(s, ROOM) == [ANNA, CARLA]
        store.set_voting_members(s, ROOM, [BEN], by=CHAIR, at=AT)
        assert store.voting_members(s, ROOM) == [BEN]
        store.set_voting_members(s, ROOM, [], by=CHAIR, at=AT)
        assert store.voting_members(s, ROOM) == []
        assert store.voting_members(s, OTHER) == [BEN]


def _fill(db: Database) -> int:
    """Anna in every new place: she set the rules, votes, proposed a circulation that passed
    and an agenda item, answered the roll call and objected to the minutes. Returns the
    meeting's ID."""
    with db.session() as s:
        seed.room(s, ROOM)
        seed.room(s, OTHER)
        store.set_rules_params(s, ROOM, {"invitation_days": 14}, by=ANNA, at=AT)
        store.set_voting_members(s, ROOM, [ANNA, BEN, CARLA], by=ANNA, at=AT)
        store.set_voting_members(s, OTHER, [BEN], by=CHAIR, at=AT)
        meeting = seed.meeting(s, ROOM, by=CHAIR, at=AT, hours=2)
        assert meeting.id is not None
        s.add(
            MeetingAttendee(
                meeting_id=meeting.id,
                user_id=ANNA,
                display_name="Anna Schmidt",
                first_seen_at=AT,
                status=AttendanceStatus.PRESENT,
            )
        )
        s.add(
            MeetingAttendee(
                meeting_id=meeting.id,
                user_id=BEN,
                display_name="Ben Okafor",
                first_seen_at=AT,
                status=AttendanceStatus.EXCUSED,
            )
        )
        meeting.minutes_approved_at = AT + dt.timedelta(days=14)
        s.add(
            Decision(
                room_id=ROOM,
                kind=DecisionKind.CIRCULATION,
                outcome=DecisionOutcome.PASSED,
                text=f"Zuschuss für das Projekt von {ANNA} bewilligen",
                year=2026,
                number=1,
                deadline=AT + dt.timedelta(days=7),
                yes=2,
                no=0,
                abstain=1,
                eligible=3,
                participated=3,
                rule="3 von 3 stimmberechtigten Mitgliedern haben abgestimmt (nötig: 2)",
                created_by=ANNA,
                created_at=AT,
                decided_at=AT + dt.timedelta(days=2),
                source_event_id="$umlauf",
            )
        )
        s.add(
            Decision(
                room_id=OTHER,
                kind=DecisionKind.MEETING,
                outcome=DecisionOutcome.TOO_FEW,
                text="Sitzungstermine 2027",
                created_by=CHAIR,
                created_at=AT,
                source_event_id="$beschluss",
            )
        )
        s.add(
            AgendaRequest(
                room_id=ROOM,
                kind=AgendaKind.REQUESTED,
                text="Bericht aus dem Jugendhilfeausschuss",
                proposed_by=ANNA,
                proposed_at=AT,
                meeting_date=dt.date(2026, 4, 14),
                source_event_id="$top",
            )
        )
        s.add(
            MinutesObjection(
                meeting_id=meeting.id,
                user_id=ANNA,
                reason=f"TOP 3 fehlt; {ANNA} war anwesend",
                at=AT + dt.timedelta(days=1),
                source_event_id="$einspruch",
            )
        )
        return meeting.id


def test_forget_replaces_the_person_in_the_committees_record_and_drops_their_vote(
    db: Database,
) -> None:
    meeting_id = _fill(db)
    with db.session() as s:
        access = erasure.subject_access(s, ANNA, now=AT)
        assert {
            "procedure_rules",
            "voting_member",
            "decision",
            "agenda_request",
            "minutes_objection",
            "meeting_attendee",
        } <= set(access["tables"])
        done = erasure.erase(s, ANNA)
        assert done.pseudonym == PSEUDONYM
        assert done.counts["voting_member: deleted"] == 1
        assert done.counts["voting_member.set_by: pseudonym"] == 2
        assert done.counts["procedure_rules.set_by: pseudonym"] == 1
        assert done.counts["decision.created_by: pseudonym"] == 1
        assert done.counts["agenda_request.proposed_by: pseudonym"] == 1
        assert done.counts["minutes_objection.user_id: pseudonym"] == 1
    with db.session() as s:
        # No longer a voting member: the others' quorum does not wait for her.
        assert store.voting_members(s, ROOM) == [BEN, CARLA]
        rules = s.get(ProcedureRules, ROOM)
        assert rules is not None
        assert rules.set_by == PSEUDONYM
        decision = s.exec(select(Decision).where(Decision.room_id == ROOM)).one()
        assert (decision.created_by, decision.number) == (PSEUDONYM, 1)
        assert decision.text == f"Zuschuss für das Projekt von {PSEUDONYM} bewilligen"
        request = s.exec(select(AgendaRequest)).one()
        assert request.proposed_by == PSEUDONYM
        objection = s.exec(select(MinutesObjection)).one()
        assert (objection.user_id, objection.meeting_id) == (PSEUDONYM, meeting_id)
        assert objection.reason == f"TOP 3 fehlt; {PSEUDONYM} war anwesend"
        # Her answer to the roll call stays in the minutes, under the pseudonym.
        attendees = s.exec(select(MeetingAttendee).order_by(MeetingAttendee.user_id)).all()
        assert [(a.user_id, a.status) for a in attendees] == [
            (BEN, AttendanceStatus.EXCUSED),
            (PSEUDONYM, AttendanceStatus.PRESENT),
        ]
        again = erasure.erase(s, ANNA)
        assert again.total == 0, again.lines()


def _export(db: Database, room_ids: list[str] | None = None) -> str:
    out = io.StringIO()
    with db.engine.connect() as conn:
        dump.write_dump(conn, out, room_ids=room_ids)
    return out.getvalue()


def _empty(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


NEW_TABLES = ("procedure_rules", "voting_member", "decision", "agenda_request", "minutes_objection")


def test_a_dump_carries_the_procedure_and_restores_it_to_the_same_bytes(db: Database) -> None:
    meeting_id = _fill(db)
    first = _export(db)
    tables: dict[str, Any] = {t["name"]: t for t in json.loads(first)["tables"]}
    assert {name: tables[name]["count"] for name in NEW_TABLES} == {
        "procedure_rules": 1,
        "voting_member": 4,
        "decision": 2,
        "agenda_request": 1,
        "minutes_objection": 1,
    }
    _empty(db)
    dump.restore(db.engine, dump.read_dump(io.StringIO(first)))
    assert _export(db) == first
    with db.session() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None
        assert meeting.minutes_approved_at == AT + dt.timedelta(days=14)
        statuses = {a.user_id: a.status for a in s.exec(select(MeetingAttendee))}
        assert statuses == {ANNA: "present", BEN: "excused"}
        assert store.voting_members(s, ROOM) == [ANNA, BEN, CARLA]
        assert store.rules_params(s, ROOM) == {"invitation_days": 14}
    # A dump of one room holds its decisions, voting members and the objections to its
    # meetings' minutes, not the other room's.
    one = {t["name"]: t for t in json.loads(_export(db, [ROOM]))["tables"]}
    assert one["decision"]["count"] == 1
    assert one["voting_member"]["count"] == 3
    assert one["minutes_objection"]["count"] == 1


@pytest.mark.parametrize(
    ("table", "good", "bad"),
    [
        ("decision", '"passed"', '"vertagt"'),
        ("agenda_request", '"requested"', '"eilig"'),
        ("meeting_attendee", '"excused"', '"krank"'),
    ],
)
def test_a_restore_refuses_a_state_the_bot_never_writes(
    db: Database, table: str, good: str, bad: str
) -> None:
    _fill(db)
    text = _export(db)
    assert good in text
    _empty(db)
    with pytest.raises(dump.DumpError, match=rf"table '{table}', row \d+: \w+: '"):
        dump.restore(db.engine, dump.read_dump(io.StringIO(text.replace(good, bad))))
    with db.engine.connect() as conn:
        for t in SQLModel.metadata.sorted_tables:
            assert conn.execute(sql_select(func.count()).select_from(t)).scalar_one() == 0
