"""Privacy by construction: after an agreement, a room poll, an anonymous pulse and the
annual survey, no row of any table holds a member's user ID (or name) beside an
anonymous answer, and no export holds anyone's own answer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

from sqlalchemy import select as sql_select
from sqlmodel import SQLModel, select

from commands.exports.run import FORMATS, export, make_scope
from storage.models import PollVote, SurveyComment
from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog
from tests.unit.test_survey import polls_of, started

POLL_START = "org.matrix.msc3381.poll.start"
ANSWER_TABLES = {"poll_vote", "survey_comment"}
# Direct-message rooms have opaque IDs, as on a homeserver.
DM = {ANNA: "!dm1:example.org", BEN: "!dm2:example.org", CARLA: "!dm3:example.org"}


def run_everything(dialog: Dialog) -> None:
    dialog.dm_rooms.update(DM)
    dialog.say(ANNA, f"!verabredung Bericht an Schulamt {BEN} bis Freitag")
    # A poll in the room (not anonymous: the room's events show the votes anyway).
    [poll] = [
        s
        for s in dialog.say(CHAIR, "!umfrage Termin? | Montag | Dienstag")
        if s.event_type == POLL_START
    ]
    dialog.answer_poll(ANNA, poll.event_id, (poll.content[POLL_START]["answers"][0]["id"],))
    # An anonymous pulse: by direct message, only the totals in the room.
    sent = dialog.say(CHAIR, "!puls anonym")
    to = {s.to_user: s for s in sent if s.to_user is not None}
    for who, value in ((ANNA, "5"), (BEN, "2"), (CARLA, "4")):
        dialog.answer_poll(who, to[who].event_id, (value,), room_id=DM[who])
    dialog.say(CHAIR, "!schließen 2")
    # The annual survey: statements and a free text, by direct message.
    by_user = started(dialog)
    for who, value in ((ANNA, "5"), (BEN, "2"), (CARLA, "3")):
        for statement in polls_of(by_user[who]):
            dialog.answer_poll(who, statement.event_id, (value,), room_id=DM[who])
        question = by_user[who][-1]
        dialog.reply_plain(who, f"Freitext-{value}-XYZ", question.event_id, room_id=DM[who])


def test_no_row_holds_a_member_beside_an_anonymous_answer(dialog: Dialog) -> None:
    run_everything(dialog)
    people = [*dialog.members, *dialog.members.values()]
    with dialog.database.session() as s:
        hashes = {v.voter for v in s.exec(select(PollVote))}
        hashes |= {c.voter for c in s.exec(select(SurveyComment))}
        free_texts = {c.text for c in s.exec(select(SurveyComment))}
        assert len(free_texts) == 3
        answers_seen = 0
        for table in SQLModel.metadata.sorted_tables:
            for row in s.execute(sql_select(table)).mappings():
                values = json.dumps(dict(row), default=str, ensure_ascii=False)
                person = next((p for p in people if p in values), None)
                if table.name in ANSWER_TABLES:
                    answers_seen += 1
                    assert person is None, (table.name, values)
                    continue
                if person is None:
                    continue
                # A row about a member (the outbox's messages to them included) never
                # carries an answer's hash or a free text.
                assert not any(h in values for h in hashes), (table.name, values)
                assert "XYZ" not in values, (table.name, values)
    # 1 room vote, 3 pulse votes, 3 × 6 statements, 3 free texts
    assert answers_seen == 1 + 3 + 3 * 6 + 3


def test_exports_hold_no_ones_own_answer(dialog: Dialog) -> None:
    run_everything(dialog)
    people = [*dialog.members, *dialog.members.values()]
    for name in ("csv", "md", "json", "xlsx"):
        out = io.BytesIO()
        with dialog.database.session() as s:
            scope = make_scope(
                room_ids=None,
                period=None,
                lang="de",
                tz=dialog.defaults.zone,
                now=dialog.now + dt.timedelta(days=30),
            )
            export(s, FORMATS[name], scope, out, lambda what, rows: None)
        data = out.getvalue()
        if name == "csv":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                polls = [n for n in z.namelist() if "umfrage" in n or "poll" in n]
                assert polls, z.namelist()
                for member in polls:
                    text = z.read(member).decode("utf-8-sig")
                    rows = list(csv.reader(io.StringIO(text)))
                    assert len(rows) >= 3  # header, the room poll, the pulse
                    assert not any(p in text for p in people), text
        elif name == "json":
            # The coordination's JSON holds the sections, results only: no answer table.
            exported = json.loads(data)
            assert "tables" not in exported
            text = data.decode("utf-8")
            assert not any(table in text for table in ANSWER_TABLES)
            assert "XYZ" not in text
            section = next(x for x in exported["sections"] if x["name"] == "polls")
            assert section["rows"]
            assert not any(p in json.dumps(section, ensure_ascii=False) for p in people)
        elif name == "md":
            text = data.decode("utf-8")
            assert "XYZ" not in text
            polls = [
                part.split("\n#", 1)[0]
                for part in text.split("### ")[1:]
                if part.startswith("Umfragen")
            ]
            assert polls
            for section in polls:
                assert not any(p in section for p in people), section
        else:
            assert b"XYZ" not in data
