"""What the dialog tests of decisions share: the voting members named, a circulation
started and voted on, the scheduler's wake-up, the stored decisions and agenda items."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from bot.runtime.scheduler import run_timers
from commands.core.timers import TimerEnv
from storage.models import AgendaRequest, Decision
from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog, Sent

POLL_START = "org.matrix.msc3381.poll.start"
POLL_END = "org.matrix.msc3381.poll.end"
VOTING = (ANNA, BEN, CARLA, CHAIR)


def name_voting_members(dialog: Dialog, *who: str) -> None:
    """The rules name the voting members: the coordinating office is in the room but does
    not vote."""
    pills = " ".join(who)
    said = dialog.text(CHAIR, f"!geschäftsordnung stimmberechtigt {pills}", mentions=who)
    assert f"Stimmberechtigt ({len(who)})" in said, said


def start(dialog: Dialog, command: str, who: str = CHAIR) -> tuple[Sent, Sent]:
    """The circulation's poll and the message mentioning the voting members."""
    sent = dialog.say(who, command)
    polls = [s for s in sent if s.event_type == POLL_START]
    texts = [s for s in sent if s.event_type == "m.room.message"]
    assert len(polls) == 1, [s.body for s in sent]
    assert len(texts) == 1, [s.body for s in sent]
    return polls[0], texts[0]


def vote(dialog: Dialog, who: str, poll: Sent, answer: str) -> list[Sent]:
    return dialog.answer_poll(who, poll.event_id, (answer,))


def wake_up(dialog: Dialog, at: dt.datetime) -> list[Sent]:
    """What the scheduler's timers send when they wake up at `at`."""
    before = dialog._last_row()
    env = TimerEnv(
        members=lambda _room: dialog.members, power_levels=lambda _room: dialog.power_levels
    )
    with dialog.database.session() as s:
        run_timers(s, at, env, dialog.registry.timers)
        s.commit()
    return dialog.sent_since(before)


def agenda_items(dialog: Dialog) -> list[AgendaRequest]:
    with dialog.database.session() as s:
        return list(s.exec(select(AgendaRequest).order_by(col(AgendaRequest.id))))


def decisions(dialog: Dialog) -> list[Decision]:
    with dialog.database.session() as s:
        return list(s.exec(select(Decision).order_by(col(Decision.id))))
