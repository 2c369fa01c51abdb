"""The attacker holds the database, a dump or a backup (not `voter.key`) and knows in
which order the members answered the annual survey (the homeserver records when each
member sent something into their direct-message room). They sort votes and free texts by
ID, by their place in the table (a SELECT without ORDER BY, PostgreSQL's ctid, the JSON
dump) and try to map them to the members; they look for the direct-message rooms in the
handled-event records, for times in the participation, and hash guessed outbox keys with
the members' user IDs. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import inspect, text
from sqlmodel import SQLModel, col, select

from bot.runtime.scheduler import run_timers
from commands.core.timers import TimerEnv
from commands.polls.config import poll_settings
from storage import dump, erasure, events, outbox
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import OutboxMessage, Poll, PollKind, ProcessedEvent, Survey
from storage.voters import voter_hash
from tests.dialog import COORDINATOR, Dialog, Sent

START = "org.matrix.msc3381.poll.start"
MEMBERS = [f"@mitglied{i:02d}:example.org" for i in range(12)]
# Far beyond what a random order gives (about one hit per statement, seven in all).
MAX_HITS = 25


class EventIds:
    """The dialog's event numbers, remembered: which events the members sent."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self._count = itertools.count(1)

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        n = next(self._count)
        self.issued.append(f"$ev{n}")
        return n


def _dialog(db: Database) -> tuple[Dialog, EventIds]:
    ids = EventIds()
    dialog = Dialog(db, _ids=ids)
    dialog.members = {m: f"Mitglied {i}" for i, m in enumerate(MEMBERS)}
    dialog.members[COORDINATOR] = "Bildungsbüro"
    return dialog, ids


def _wake(dialog: Dialog, at: dt.datetime) -> list[Sent]:
    env = TimerEnv(
        members=lambda room_id: dialog.members if room_id == dialog.room_id else {},
        bot_user=dialog.bot_user,
    )
    before = dialog._last_row()
    with dialog.database.session() as s:
        run_timers(s, at, env, dialog.registry.timers)
    return dialog.sent_since(before)


def _survey_answered_in_order(db: Database) -> tuple[Dialog, list[str], int]:
    """12 members answer every statement and the free text, one after the other (member
    i gives i % 5 + 1 everywhere); the event IDs they sent, and the survey's ID."""
    dialog, ids = _dialog(db)
    assert "gestartet" in dialog.text(COORDINATOR, "!auswertung starten")
    by_user: dict[str, list[Sent]] = {}
    for sent in _wake(dialog, dialog.now):
        if sent.to_user is not None:
            by_user.setdefault(sent.to_user, []).append(sent)
    first = len(ids.issued)
    for i, who in enumerate(MEMBERS):
        dialog.now += dt.timedelta(minutes=7)
        room = dialog.dm_room(who)
        for poll in [s for s in by_user[who] if s.event_type == START]:
            dialog.answer_poll(who, poll.event_id, (str(i % 5 + 1),), room_id=room)
        [question] = [s for s in by_user[who] if s.ref_kind == "survey-text"]
        dialog.reply_plain(who, f"Freitext von Mitglied {i}", question.event_id, room_id=room)
    with db.session() as s:
        survey = s.exec(select(Survey)).one()
    assert survey.id is not None
    return dialog, ids.issued[first:], survey.id


def _orders(db: Database, table: str, group: str) -> dict[str, dict[Any, list[str]]]:
    """Each group's voters (a poll's, a survey's) in each order an attacker can read."""
    queries = {
        "id": f"SELECT {group}, voter FROM {table} ORDER BY id",
        "place": f"SELECT {group}, voter FROM {table}",
    }
    if db.engine.dialect.name == "postgresql":
        queries["ctid"] = f"SELECT {group}, voter FROM {table} ORDER BY ctid"
    found: dict[str, dict[Any, list[str]]] = {}
    with db.engine.connect() as conn:
        for name, sql in queries.items():
            found[name] = {}
            for key, voter in conn.execute(text(sql)):
                found[name].setdefault(key, []).append(voter)
    out = io.StringIO()
    with db.engine.connect() as conn:
        dump.write_dump(conn, out)
    [dumped] = [t for t in json.loads(out.getvalue())["tables"] if t["name"] == table]
    names = [c["name"] for c in dumped["columns"]]
    found["dump"] = {}
    for values in dumped["rows"]:
        row = dict(zip(names, values, strict=True))
        found["dump"].setdefault(row[group], []).append(row["voter"])
    return found


def _hits(guessed: Sequence[str], answered: Sequence[str]) -> int:
    """How many the attacker gets right by taking the k-th row for the k-th to answer."""
    return sum(g == a for g, a in zip(guessed, answered, strict=False))


def test_the_order_of_votes_and_free_texts_does_not_tell_who_answered_what(
    db: Database,
) -> None:
    dialog, _sent, survey_id = _survey_answered_in_order(db)
    key = poll_settings(dialog.defaults).voter_key
    with db.session() as s:
        statements = list(
            s.exec(select(Poll).where(Poll.kind == PollKind.SURVEY).order_by(col(Poll.position)))
        )
    assert len(statements) >= 5
    for how, by_poll in _orders(db, "poll_vote", "poll_id").items():
        hits = 0
        for poll in statements:
            answered = [voter_hash(key, f"poll:{poll.id}", m) for m in MEMBERS]
            stored = by_poll[poll.id]
            assert sorted(stored) == sorted(answered)  # every member's vote is there
            assert stored != answered, f"votes in {how} order are the order of answering"
            hits += _hits(stored, answered)
        assert hits <= MAX_HITS, f"{how}: {hits} of {12 * len(statements)} votes attributed"
    answered = [voter_hash(key, f"survey:{survey_id}", m) for m in MEMBERS]
    for how, by_survey in _orders(db, "survey_comment", "survey_id").items():
        stored = by_survey[survey_id]
        assert sorted(stored) == sorted(answered)
        assert stored != answered, f"free texts in {how} order are the order of answering"


def test_ids_of_votes_and_free_texts_are_random_and_not_counted_up(db: Database) -> None:
    _survey_answered_in_order(db)
    with db.engine.connect() as conn:
        for table in ("poll_vote", "survey_comment"):
            ids = [i for (i,) in conn.execute(text(f"SELECT id FROM {table}"))]
            assert len(set(ids)) == len(ids)
            # Counted up from 1, 84 votes would stay below 100; random 63-bit IDs do not.
            assert min(ids) > 2**32, table


def test_handled_answers_name_neither_the_direct_message_room_nor_the_event(
    db: Database,
) -> None:
    dialog, sent, _survey_id = _survey_answered_in_order(db)
    dm_rooms = {dialog.dm_room(m) for m in MEMBERS}
    with db.session() as s:
        rows = list(s.exec(select(ProcessedEvent)))
        # …and yet the bot knows each of them as handled: none is handled twice.
        assert all(events.is_processed(s, e) for e in sent)
    assert len(rows) >= len(sent)
    for row in rows:
        assert row.room_id not in dm_rooms
        assert row.event_id not in sent
        assert "@" not in row.event_id
        assert "!dm" not in row.event_id
    hidden = [r for r in rows if r.room_id == events.NO_ROOM]
    assert len(hidden) == len(sent)
    # Kept by the day only: the records do not say when within it anyone answered.
    assert {(r.processed_at.hour, r.processed_at.minute) for r in hidden} == {(0, 0)}


def test_participation_keeps_no_time_and_is_gone_once_the_survey_ended(db: Database) -> None:
    dialog, _sent, survey_id = _survey_answered_in_order(db)
    with db.engine.connect() as conn:
        columns = inspect(conn).get_columns("survey_participant")
    kinds = {c["name"]: str(c["type"]).upper() for c in columns}
    assert not [n for n, k in kinds.items() if "TIME" in k or "DATE" in k], kinds
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM survey_participant")).mappings().all()
    assert len(rows) == len(MEMBERS) + 1  # the coordination is asked too
    with db.session() as s:
        survey = s.get(Survey, survey_id)
        assert survey is not None
        closes_at = survey.closes_at
    _wake(dialog, closes_at)
    with db.engine.connect() as conn:
        left = conn.execute(text("SELECT COUNT(*) FROM survey_participant")).scalar_one()
        participated = conn.execute(
            text("SELECT participated FROM survey WHERE id = :i"), {"i": survey_id}
        ).scalar_one()
    assert left == 0
    assert participated == len(MEMBERS)


def _outbox_keys(survey_id: int, polls: int) -> Iterator[str]:
    """Keys an attacker who read the source would guess, with each member's user ID."""
    for m in MEMBERS:
        yield from (
            f"survey:{survey_id}:{what}:{m}" for what in ("intro", "thanks", "text", "reminder")
        )
        yield from (f"survey:{survey_id}:q{p}:to:{m}" for p in range(polls))
        yield from (f"survey:{survey_id}:q{p}:end:{m}" for p in range(polls))


def test_outbox_transaction_ids_cannot_be_hashed_back_to_a_member(db: Database) -> None:
    dialog, _sent, survey_id = _survey_answered_in_order(db)
    with db.session() as s:
        survey = s.get(Survey, survey_id)
        assert survey is not None
        closes_at = survey.closes_at
    _wake(dialog, closes_at)
    with db.session() as s:
        stored = set(s.exec(select(OutboxMessage.txn_id)))
        to_members = [r for r in s.exec(select(OutboxMessage)) if r.to_user in MEMBERS]
    assert len(to_members) > len(MEMBERS) * 7  # intro, statements, free text, thanks, ends
    guessed = {
        "gb_" + hashlib.sha256(k.encode()).hexdigest()[:40] for k in _outbox_keys(survey_id, 7)
    }
    assert not guessed & stored
    # The bot itself finds them by their key (its secret is no part of the database).
    with db.session() as s:
        thanks = outbox.by_key(s, f"survey:{survey_id}:thanks:{MEMBERS[0]}")
        assert thanks is not None
        assert thanks.to_user == MEMBERS[0]


def test_a_message_stored_before_the_keyed_ids_is_still_found_by_its_key(db: Database) -> None:
    legacy = "gb_" + hashlib.sha256(b"poll:1:start").hexdigest()[:40]
    with db.session() as s:
        s.add(OutboxMessage(txn_id=legacy, room_id="!r:example.org", content="{}"))
    with db.session() as s:
        found = outbox.by_key(s, "poll:1:start")
        assert found is not None
        assert found.txn_id == legacy
        again = outbox.enqueue(s, key="poll:1:start", room_id="!r:example.org", content={})
        assert again.id == found.id


# ------------------------------------------------------------------------------ migration

_OLD_SURVEY = (
    "INSERT INTO survey (id, room_id, year, started_by, started_at, closes_at, closed_at,"
    " free_question, invited, source_event_id) VALUES (:id, '!r:example.org', 2025,"
    " '@buero:example.org', :at, :at, :closed, 'Was?', 3, :src)"
)


def test_the_upgrade_shuffles_stored_answers_and_drops_what_names_the_order(
    db: Database,
) -> None:
    """A database of the previous version, with votes in the order given, times of
    participation and handled events of direct-message rooms, after the upgrade."""
    downgrade(db.engine, "0008")
    at = dt.datetime(2025, 11, 2, 9, 0)
    try:
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO room (room_id, joined_at, encrypted)"
                    " VALUES ('!r:example.org', :at, false)"
                ),
                {"at": at},
            )
            conn.execute(text(_OLD_SURVEY), {"id": 1, "at": at, "closed": at, "src": "$s1"})
            conn.execute(text(_OLD_SURVEY), {"id": 2, "at": at, "closed": None, "src": "$s2"})
            conn.execute(
                text(
                    "INSERT INTO poll (id, room_id, kind, question, answers, max_selections,"
                    " anonymous, created_by, created_at, source_event_id, survey_id, position)"
                    " VALUES (1, '!r:example.org', 'survey', 'Q', '[]', 1, false, '@b:x', :at,"
                    " '$p1', 1, 0)"
                ),
                {"at": at},
            )
            for i in range(1, 41):
                conn.execute(
                    text(
                        "INSERT INTO poll_vote (id, poll_id, voter, answers)"
                        " VALUES (:i, 1, :v, '[]')"
                    ),
                    {"i": i, "v": f"v{i:03d}"},
                )
                conn.execute(
                    text(
                        "INSERT INTO survey_comment (id, survey_id, voter, text)"
                        " VALUES (:i, 1, :v, 'T')"
                    ),
                    {"i": i, "v": f"v{i:03d}"},
                )
            for sid in (1, 2):
                for n, (answered, when) in enumerate([(1, at), (0, None), (2, at)]):
                    conn.execute(
                        text(
                            "INSERT INTO survey_participant (survey_id, user_id, answered,"
                            " reminded_at, thanked_at) VALUES (:s, :u, :a, :w, :w)"
                        ),
                        {"s": sid, "u": f"@m{n}:example.org", "a": answered, "w": when},
                    )
            conn.execute(
                text(
                    "INSERT INTO direct_room (user_id, room_id, created_at)"
                    " VALUES ('@m0:example.org', '!dm:example.org', :at)"
                ),
                {"at": at},
            )
            # nio's made-up name of the DM room, as earlier versions stored it.
            conn.execute(
                text(
                    "INSERT INTO room (room_id, joined_at, encrypted, name)"
                    " VALUES ('!dm:example.org', :at, true, 'Mara Mustermann')"
                ),
                {"at": at},
            )
            for event_id, room_id in (("$dm", "!dm:example.org"), ("$c", "!r:example.org")):
                conn.execute(
                    text(
                        "INSERT INTO processed_event (event_id, room_id, processed_at)"
                        " VALUES (:e, :r, :at)"
                    ),
                    {"e": event_id, "r": room_id, "at": at},
                )
    finally:
        upgrade(db.engine)
    with db.engine.connect() as conn:
        for table in ("poll_vote", "survey_comment"):
            voters = [v for (v,) in conn.execute(text(f"SELECT voter FROM {table} ORDER BY id"))]
            assert sorted(voters) == [f"v{i:03d}" for i in range(1, 41)]
            assert voters != sorted(voters), table
            assert min(i for (i,) in conn.execute(text(f"SELECT id FROM {table}"))) > 40
        people = conn.execute(
            text("SELECT survey_id, user_id, reminded, thanked FROM survey_participant")
        ).all()
        assert sorted((s, u, bool(r), bool(t)) for s, u, r, t in people) == [
            (2, "@m0:example.org", True, True),
            (2, "@m1:example.org", False, False),
            (2, "@m2:example.org", True, True),
        ]
        surveys = conn.execute(text("SELECT id, participated FROM survey ORDER BY id")).all()
        assert [tuple(r) for r in surveys] == [(1, 2), (2, None)]
        handled = conn.execute(text("SELECT event_id, room_id FROM processed_event")).all()
        assert [tuple(r) for r in handled] == [("$c", "!r:example.org")]
        names = conn.execute(text("SELECT room_id, name FROM room ORDER BY room_id")).all()
        assert [tuple(r) for r in names] == [("!dm:example.org", None), ("!r:example.org", None)]


def test_answers_cut_loose_by_forget_keep_no_place_by_which_to_find_them(db: Database) -> None:
    """`gremienbot forget`: the member's votes and free text lose their voter hash and the
    whole poll is written again, so neither the old ID nor the old place names them."""
    dialog, _sent, survey_id = _survey_answered_in_order(db)
    key = poll_settings(dialog.defaults).voter_key
    gone = MEMBERS[3]
    with db.engine.connect() as conn:
        before = {i for (i,) in conn.execute(text("SELECT id FROM poll_vote"))}
        before |= {i for (i,) in conn.execute(text("SELECT id FROM survey_comment"))}
    with db.session() as s:
        erasure.erase(s, gone, voter_hash=lambda scope, user: voter_hash(key, scope, user))
    with db.engine.connect() as conn:
        votes = conn.execute(text("SELECT id, poll_id, voter FROM poll_vote")).all()
        texts = conn.execute(text("SELECT id, voter FROM survey_comment")).all()
    hashes = {voter_hash(key, f"poll:{p}", gone) for _i, p, _v in votes}
    hashes.add(voter_hash(key, f"survey:{survey_id}", gone))
    assert not [v for _i, _p, v in votes if v in hashes]
    assert not [v for _i, v in texts if v in hashes]
    assert len(votes) == 6 * len(MEMBERS)  # the answers themselves stay
    assert before.isdisjoint({i for i, _p, _v in votes} | {i for i, _v in texts})


def test_a_dump_with_random_ids_is_restored(db: Database) -> None:
    """The backup made for a migration goes back in (64-bit IDs, PostgreSQL's sequences)."""
    _survey_answered_in_order(db)
    out = io.StringIO()
    with db.engine.connect() as conn:
        dump.write_dump(conn, out)
    with db.engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    restored = dump.restore(db.engine, dump.read_dump(io.StringIO(out.getvalue())))
    assert restored.rows["poll_vote"] == 6 * len(MEMBERS)
    assert restored.rows["survey_comment"] == len(MEMBERS)


def test_going_back_to_the_previous_version_keeps_the_answers(db: Database) -> None:
    """A downgrade (an operator going back a version) renumbers the random IDs into the
    old 32-bit column and keeps who was reminded or thanked (at the survey's start)."""
    _survey_answered_in_order(db)
    downgrade(db.engine, "0008")
    try:
        with db.engine.connect() as conn:
            for table in ("poll_vote", "survey_comment"):
                ids = sorted(i for (i,) in conn.execute(text(f"SELECT id FROM {table}")))
                assert ids == list(range(1, len(ids) + 1))
            thanked = conn.execute(
                text("SELECT COUNT(*) FROM survey_participant WHERE thanked_at IS NOT NULL")
            ).scalar_one()
            assert thanked == len(MEMBERS)
    finally:
        upgrade(db.engine)
