"""Hostile events as the homeserver hands them over: text messages (with any content:
mentions, relations, edits, HTML), answers to the bot's polls and reactions to its
messages with any answer IDs and keys, through bot.runtime.events.EventHandlers (every
dialog's bot). Never an exception, never "interner Fehler", nothing stored before damaged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nio import RoomMessageText
from sqlmodel import col, select

from commands.core import i18n
from storage.db import Database
from storage.models import Agreement, AgreementOwner, OutboxMessage
from tests.dialog import ANNA, BEN, CARLA, CHAIR, STRANGER, Dialog
from tests.fuzz import COMMAND_EXAMPLES
from tests.fuzz.strategies import args, json_value, piece

# The internal error's text up to its reference code (a new code for each failure).
INTERNAL = tuple(i18n.raw(lang, "error.internal").partition("{code}")[0] for lang in i18n.LANGUAGES)
POLL_START = "org.matrix.msc3381.poll.start"


def stored(db: Database) -> list[tuple[object, ...]]:
    with db.session() as s:
        agreements = s.exec(select(Agreement).order_by(col(Agreement.id))).all()
        owners = s.exec(select(AgreementOwner).order_by(col(AgreementOwner.user_id))).all()
        return [(a.id, a.text, a.status, a.due_date, a.due_time) for a in agreements] + [
            (o.agreement_id, o.user_id) for o in owners
        ]


def bodies(db: Database, after: int) -> list[str]:
    with db.session() as s:
        rows = s.exec(select(OutboxMessage).where(col(OutboxMessage.id) > after)).all()
        return [row.content for row in rows]


@pytest.fixture
def room(dialog: Dialog) -> tuple[Dialog, list[tuple[object, ...]], str]:
    """Two agreements and a poll, recorded before the fuzzing."""
    dialog.say(ANNA, "!verabredung Bericht an Schulamt @ben bis Freitag")
    dialog.say(BEN, "!verabredung Raum buchen")
    sent = dialog.say(ANNA, "!umfrage Termin? | Montag | Dienstag")
    [poll] = [s for s in sent if s.event_type == POLL_START]
    return dialog, stored(dialog.database), poll.event_id


relation = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {
            "rel_type": st.sampled_from(["m.replace", "m.thread", "m.reference", "x"]),
            "event_id": st.sampled_from(["$ev1", "$ev2", "$ev3", "$nope", ""]) | json_value,
        },
        optional={"m.in_reply_to": json_value, "is_falling_back": json_value},
    ),
)
message_content = st.fixed_dictionaries(
    {"msgtype": st.just("m.text"), "body": st.one_of(args, args.map(lambda a: "!" + a))},
    optional={
        "formatted_body": st.lists(st.one_of(piece, args), max_size=6).map("".join),
        "format": st.just("org.matrix.custom.html"),
        "m.mentions": json_value
        | st.fixed_dictionaries({"user_ids": st.lists(st.one_of(piece, json_value))}),
        "m.relates_to": relation,
        "m.new_content": json_value
        | st.fixed_dictionaries({"body": st.one_of(args, args.map(lambda a: "!" + a))}),
    },
)


def test_text_events_with_any_content(room: tuple[Dialog, list[tuple[object, ...]], str]) -> None:
    dialog, _before, _poll = room
    ids = iter(range(10**9))

    @settings(max_examples=COMMAND_EXAMPLES * 2)
    @given(st.sampled_from([CARLA, CHAIR, STRANGER]), message_content)
    def run(sender: str, content: dict[str, Any]) -> None:
        prior = [row for row in stored(dialog.database) if row[0] in (1, 2)]
        event = RoomMessageText.from_dict(
            {
                "type": "m.room.message",
                "event_id": f"$fuzz{next(ids)}",
                "sender": sender,
                "origin_server_ts": int(dialog.now.timestamp() * 1000),
                "content": content,
            }
        )
        if not isinstance(event, RoomMessageText):
            return  # nio refuses it before the bot sees it
        after = dialog._last_row()
        dialog.receive(event)
        for body in bodies(dialog.database, after):
            assert not any(text in body for text in INTERNAL), content
        if sender != CHAIR:
            now = [row for row in stored(dialog.database) if row[0] in (1, 2)]
            assert now == prior, content

    run()


answers = st.one_of(
    st.none(),
    st.lists(st.one_of(piece, st.text(max_size=10), st.sampled_from(["0", "1", "2"])), max_size=25),
).map(lambda a: None if a is None else tuple(a))


def test_poll_answers_and_reactions_with_anything(
    room: tuple[Dialog, list[tuple[object, ...]], str],
) -> None:
    dialog, _before, poll = room
    agreement = dialog.event_about("agreement", 1)

    @settings(max_examples=COMMAND_EXAMPLES * 2)
    @given(
        st.sampled_from([CARLA, BEN, STRANGER]),
        answers,
        st.one_of(piece, st.text(max_size=10), st.sampled_from(["✅", "👍🏽", "✔️", "❌"])),
        st.sampled_from([poll, agreement, "$nope"]),
        st.sampled_from([None, "!dm-carla:example.org"]),
    )
    def run(sender: str, chosen: Any, key: str, target: str, dm: str | None) -> None:
        prior = stored(dialog.database)
        for sent in dialog.answer_poll(sender, poll, chosen, room_id=dm):
            assert not sent.body.startswith(INTERNAL)
        for sent in dialog.react(sender, key, target):
            assert not sent.body.startswith(INTERNAL)
        if sender != BEN:  # Ben owns both agreements: his ✅ closes them
            assert stored(dialog.database) == prior

    run()
    dialog.now += dt.timedelta(days=1)
    assert "Termin?" in dialog.text(ANNA, "!ergebnis 1")
