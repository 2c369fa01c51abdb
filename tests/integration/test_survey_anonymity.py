"""The survey's promise tried against a real Synapse, as a hostile coordinator and whoever
holds the database would try it: three members answer one after the other, the
coordination asks for the report after each (the difference attack), ends the survey
early, reads the report, downloads and decrypts its own JSON export and looks for single
answers in it; then the database is searched for the order of answering, for handled
events that name a member's direct-message room, and for transaction IDs that can be
hashed back from a user ID."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from nio import MatrixRoom, RoomEncryptedFile, RoomMessageFile
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy import text as sql
from sqlmodel import select

from bot.devtools.member import Member
from storage.models import OutboxMessage, Poll, PollKind, ProcessedEvent, Survey
from tests.integration.conftest import BotFactory, MemberFactory
from tests.integration.effect_helpers import SeenEvent, accept_invites, download
from tests.integration.poll_helpers import START, respond, wait_for_event
from tests.integration.reminder_helpers import wait_for_bot_message

pytestmark = pytest.mark.synapse

STATEMENTS = 6
# Each member gives every statement one value, so an order of rows that follows the order
# of answering would read 5, 2, 4.
ANSWERS = (("anna", "5"), ("ben", "2"), ("carla", "4"))


async def statements(member: Member, dm: str, bot_user: str) -> list[SeenEvent]:
    return await wait_for_event(member, dm, bot_user, START, count=STATEMENTS, timeout=40)


def unkeyed_txn_id(key: str) -> str:
    """How transaction IDs were made before issue 18: anyone could recompute them."""
    return "gb_" + hashlib.sha256(key.encode()).hexdigest()[:40]


async def test_nobody_attributes_survey_answers_from_reports_export_or_database(
    make_bot: BotFactory, make_member: MemberFactory
) -> None:
    buero = await make_member("buero")
    bot = await make_bot(coordination=[buero.user_id])
    bot_user = bot.user_id
    members = {name: await make_member(name) for name, _value in ANSWERS}
    people = (buero, *members.values())
    invites = {m.user_id: accept_invites(m, bot_user) for m in people}
    room = await buero.create_room(
        "Bildungskonferenz",
        encrypted=True,
        invite=(bot_user, *(m.user_id for m in members.values())),
    )
    for member in members.values():
        await member.join(room)
    for member in members.values():
        await buero.wait_for_member(room, member.user_id, timeout=30)
    await buero.wait_for_member(room, bot_user, timeout=30)
    await buero.wait_until(lambda: len(bot.client.rooms[room].users) == 5, timeout=20)
    files: list[Any] = []

    async def on_file(_room: MatrixRoom, event: Any) -> None:
        files.append(event)

    buero.client.add_event_callback(on_file, (RoomEncryptedFile, RoomMessageFile))

    await buero.send(room, "!auswertung starten")
    await wait_for_bot_message(
        buero, bot_user, room, "4 Mitgliedern die Aussagen der Jahresbefragung"
    )

    # The members answer one after the other; after each the coordination asks again.
    reports: list[str] = []
    answer_events: list[str] = []
    dms: list[str] = []
    for done, (name, value) in enumerate(ANSWERS, start=1):
        member = members[name]
        await member.wait_until(lambda m=member: bool(invites[m.user_id]), timeout=30)  # type: ignore[misc]
        dm = invites[member.user_id][0].room_id
        dms.append(dm)
        answer_events += [
            await member.send_event(dm, *respond(poll.event_id, value))
            for poll in await statements(member, dm, bot_user)
        ]
        await wait_for_bot_message(
            member, bot_user, dm, f"Sie haben alle {STATEMENTS} Aussagen beantwortet"
        )
        question = next(m for m in member.messages_from(bot_user, dm) if "freiwillig" in m.body)
        answer_events.append(
            await member.send_event(
                dm,
                "m.room.message",
                {
                    "msgtype": "m.text",
                    "body": f"Freitext von {name}: mehr Zeit für Themen",
                    "m.relates_to": {"m.in_reply_to": {"event_id": question.event_id}},
                },
            )
        )
        await wait_for_bot_message(member, bot_user, dm, "ohne Ihren Namen")
        await buero.send(room, "!auswertung")
        running = await wait_for_bot_message(
            buero, bot_user, room, f"{done} von 4 Mitgliedern {'hat' if done == 1 else 'haben'}"
        )
        reports.append(running.body)

    # The difference attack: the running reports differ in the participation only.
    for seen in reports:
        assert "Mittelwert " not in seen
        assert "Freitext von" not in seen
    participation = re.compile(r"\d von 4 Mitgliedern (?:hat|haben) teilgenommen \(\d+ %\)")
    stripped = {participation.sub("…", r) for r in reports}
    assert len(stripped) == 1, "\n---\n".join(reports)

    # Ended early by the coordination; now the figures and the three free texts show.
    await buero.send(room, "!auswertung beenden")
    await wait_for_bot_message(buero, bot_user, room, "ist abgeschlossen: 3 von 4 Mitgliedern")
    await buero.send(room, "!auswertung")
    report = await wait_for_bot_message(buero, bot_user, room, "Mittelwert 3,7")
    assert "3 von 4 Mitgliedern haben teilgenommen (75 %)" in report.body
    assert "Mittelwert 3,7 von 5 aus 3 Antworten" in report.body
    for name, _value in ANSWERS:
        assert f"Freitext von {name}" in report.body
    for person in people:
        assert person.user_id not in report.body

    # The coordination's own export, downloaded and decrypted from its direct messages.
    await buero.send(room, "!export json")
    await wait_for_bot_message(buero, bot_user, room, "in Ihrer Direktnachricht mit mir")
    await buero.wait_until(
        lambda: any(f.source["content"].get("filename", "").endswith(".json") for f in files),
        timeout=30,
    )
    content = next(
        f.source["content"] for f in files if f.source["content"]["filename"].endswith(".json")
    )
    info = content["file"]
    stored = await download(buero, info["url"])
    raw = decrypt_attachment(stored, info["key"]["k"], info["hashes"]["sha256"], info["iv"])
    exported = raw.decode("utf-8")
    data = json.loads(exported)
    assert data["format"] == "gremienbot-export"
    for word in ("poll_vote", "survey_comment", "survey_participant", "voter", "Freitext von"):
        assert word not in exported
    for member in members.values():
        assert member.user_id not in exported

    # Whoever holds the database: no order of answering in IDs or rows, no handled event
    # that names a DM room or an answer event, no transaction ID to hash back.
    answering_order = [value for _name, value in ANSWERS]
    with bot.bot.db.session() as s:
        survey = s.exec(select(Survey).where(Survey.room_id == room)).one()
        assert survey.closed_at is not None
        polls = s.exec(
            select(Poll).where(Poll.survey_id == survey.id, Poll.kind == PollKind.SURVEY)
        ).all()
        assert len(polls) == STATEMENTS
        by_id: list[list[str]] = []
        stored_order: list[list[str]] = []
        for poll in polls:
            rows = s.execute(
                sql("SELECT id, answers FROM poll_vote WHERE poll_id = :p"), {"p": poll.id}
            ).all()
            assert len(rows) == 3
            stored_order.append([json.loads(answers)[0] for _id, answers in rows])
            by_id.append([json.loads(answers)[0] for _id, answers in sorted(rows)])
        # Each statement's three votes in a random order: all six in the order of
        # answering would happen by chance once in 6**6 (46,656) runs.
        for orders in (by_id, stored_order):
            assert any(order != answering_order for order in orders), orders
        texts = [
            t
            for (t,) in s.execute(
                sql("SELECT text FROM survey_comment WHERE survey_id = :s ORDER BY id"),
                {"s": survey.id},
            )
        ]
        assert sorted(texts) == sorted(f"Freitext von {n}: mehr Zeit für Themen" for n in members)
        handled = s.exec(select(ProcessedEvent)).all()
        assert not any(row.room_id in dms for row in handled)
        assert not {row.event_id for row in handled} & set(answer_events)
        assert s.execute(sql("SELECT COUNT(*) FROM survey_participant")).scalar_one() == 0
        txn_ids = {row.txn_id for row in s.exec(select(OutboxMessage))}
        for member in members.values():
            for step in ("intro", "thanks", "text"):
                assert unkeyed_txn_id(f"survey:{survey.id}:{step}:{member.user_id}") not in txn_ids
