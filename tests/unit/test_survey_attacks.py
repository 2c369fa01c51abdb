"""Attacks on the survey and the anonymous pulse, run as the attacker would run them.

A chair who asks for the report after each member answered, a member who ends the
survey or sets it to run for centuries, a member who loops `!puls anonym` / `!schließen`
to flood everyone's direct messages, an answer to a member's direct-message poll sent
from another room, and one from somebody who has left the committee.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlmodel import select

from commands.core.defaults import Defaults
from commands.polls.config import PollSettings
from storage.models import Poll, PollVote, Survey, SurveyComment
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, Dialog, Sent
from tests.unit.test_survey import END, STATEMENTS, env_of, polls_of, started, wake

FREE_TEXTS = {ANNA: "Anna-XYZ mehr Zeit", BEN: "Ben-XYZ kürzere Sitzungen", CARLA: "Carla-XYZ"}
SCORES = {ANNA: "5", BEN: "1", CARLA: "3"}
# The one line that may change between two reports of a running survey.
# The verb agrees with the count ("1 von 5 Mitgliedern hat teilgenommen"): part of it.
PARTICIPATION = re.compile(
    r"[0-9]+ von [0-9]+ Mitglied(?:ern)? (?:hat|haben) teilgenommen \([0-9]+ %\)"
)
ALL_PARTICIPATION = re.compile(r"Teilnahme [0-9]+ % \([0-9]+/[0-9]+\)")


def answer_everything(dialog: Dialog, who: str, sent: list[Sent]) -> None:
    for poll in polls_of(sent):
        dialog.answer_poll(who, poll.event_id, (SCORES[who],), room_id=dialog.dm_room(who))
    question = sent[-1]
    dialog.reply_plain(who, FREE_TEXTS[who], question.event_id, room_id=dialog.dm_room(who))


def reports(dialog: Dialog) -> tuple[str, str, int]:
    """The chair's room report, the coordination's table of all committees, and how many
    charts (pictures) came with the report."""
    room = dialog.say(CHAIR, "!auswertung")
    table = dialog.text(COORDINATOR, "!auswertung alle")
    text = "\n".join(s.body for s in room if s.content.get("msgtype") != "m.image")
    files = sum(1 for s in room if s.content.get("msgtype") == "m.image")
    return text, table, files


# ------------------------------------------------------------------ the difference attack


def test_asking_for_the_report_after_each_answer_shows_only_the_count(
    dialog_both: Dialog,
) -> None:
    dialog = dialog_both
    by_user = started(dialog)
    seen = [reports(dialog)]
    for who in (ANNA, BEN, CARLA):
        answer_everything(dialog, who, by_user[who])
        seen.append(reports(dialog))

    counts = [PARTICIPATION.findall(room) for room, _table, _files in seen]
    assert [c[0].split(" ")[0] for c in counts] == ["0", "1", "2", "3"]
    # Apart from that count, the four reports are the same: nothing tells what the last
    # member to answer answered.
    assert len({PARTICIPATION.sub("N", room) for room, _t, _f in seen}) == 1
    assert len({ALL_PARTICIPATION.sub("N", table) for _r, table, _f in seen}) == 1
    for room, table, files in seen:
        assert "Die Jahresbefragung läuft noch" in room
        assert not re.search(r"Mittelwert [0-9]|Verteilung 1:", room)
        assert not re.search(r"Freitext( –|-Antworten)", room)
        assert "XYZ" not in room
        assert "Das Gremium hat klare Ziele, die alle Mitglieder teilen." not in room
        assert files == 0  # no chart of the statements' means either
        assert "Aussagen läuft noch" in table

    # Once ended, the figures are there.
    wake(dialog, dialog.now + dt.timedelta(days=15), env_of(dialog))
    dialog.now += dt.timedelta(days=16)
    room, table, files = reports(dialog)
    assert "Mittelwert 3,0 von 5 aus 3 Antworten" in room
    assert all(text in room for text in FREE_TEXTS.values())
    assert files == 1
    assert "Aussagen 3,0" in table


# ------------------------------------------------------------------------- ending early


def test_a_member_or_the_chair_cannot_end_the_survey_the_coordination_can(
    dialog: Dialog,
) -> None:
    by_user = started(dialog)
    for who in (ANNA, BEN, CARLA):
        answer_everything(dialog, who, by_user[who])
    for who in (ANNA, CHAIR):
        refused = dialog.text(who, "!auswertung beenden")
        assert "beenden dürfen nur die Koordination und die Person, die sie gestartet" in refused
    with dialog.database.session() as s:
        assert s.exec(select(Survey)).one().closed_at is None

    assert "wird jetzt beendet" in dialog.text(COORDINATOR, "!auswertung beenden")
    # The command moved the survey's end: the room's timers are looked at again and end it
    # as at its planned end.
    assert dialog.bot.poked[-1] == dialog.room_id
    ended = wake(dialog, dialog.now, env_of(dialog))
    assert len([e for e in ended if e.event_type == END]) == STATEMENTS * len(dialog.members)
    [told] = [e for e in ended if e.room_id == dialog.room_id]
    assert "Die Jahresbefragung 2026 ist abgeschlossen: 3 von 5 Mitgliedern" in told.body
    room, _table, _files = reports(dialog)
    assert "Mittelwert 3,0 von 5 aus 3 Antworten" in room
    # Ended is ended: later answers do not count, and there is nothing left to end.
    late = polls_of(by_user[COORDINATOR])[0]
    dialog.answer_poll(COORDINATOR, late.event_id, ("5",), room_id=dialog.dm_room(COORDINATOR))
    with dialog.database.session() as s:
        assert len(s.exec(select(PollVote)).all()) == 3 * STATEMENTS
    assert "keine Jahresbefragung" in dialog.text(COORDINATOR, "!auswertung beenden")


def test_whoever_started_it_may_end_it_in_english_too(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache englisch")
    assert "has started" in dialog.text(COORDINATOR, "!evaluation start")
    dialog.coordinators = frozenset()  # no longer the coordination, still its starter
    refused = dialog.text(ANNA, "!evaluation end")
    assert "Only the coordinating office and the person who started it" in refused
    assert "ended before anyone was asked" in dialog.text(COORDINATOR, "!evaluation end")
    with dialog.database.session() as s:
        survey = s.exec(select(Survey)).one()
        # Nobody was asked yet: ended at once, nothing is sent to anyone.
        assert survey.closed_at is not None
    assert wake(dialog, dialog.now, env_of(dialog)) == []


# --------------------------------------------------------------------------- the end date


@pytest.mark.parametrize(
    "end",
    [
        "bis 2999/12/31",
        "bis 31.12.2999",
        "bis 2999-12-31",
        "bis in 2 Jahren",
        "bis 10.3.2027",  # a year and a day ahead of Monday, 9 March 2026
        "bis in 9999 Tagen",
    ],
)
def test_a_survey_end_more_than_a_year_ahead_is_refused(dialog: Dialog, end: str) -> None:
    shown = dialog.text(COORDINATOR, f"!auswertung starten {end}")
    assert "höchstens ein Jahr" in shown or "verstehe ich nicht" in shown, shown
    assert "gestartet für" not in shown
    with dialog.database.session() as s:
        assert s.exec(select(Survey)).all() == []


def test_a_survey_may_run_for_a_year_but_not_on_stray_words(dialog: Dialog) -> None:
    shown = dialog.text(COORDINATOR, "!auswertung starten 2999")
    assert "„2999“ verstehe ich hier nicht" in shown
    with dialog.database.session() as s:
        assert s.exec(select(Survey)).all() == []
    assert "gestartet für" in dialog.text(COORDINATOR, "!auswertung starten bis 9.3.2027")


# ----------------------------------------------------------------------- anonymous pulses


def direct_messages(sent: list[Sent]) -> int:
    return sum(1 for s in sent if s.to_user is not None)


def test_a_member_may_not_start_an_anonymous_pulse_unless_the_config_allows(
    dialog: Dialog,
) -> None:
    sent = dialog.say(ANNA, "!puls anonym")
    assert direct_messages(sent) == 0
    [refused] = sent
    assert "nur der Vorsitz und die Koordination" in refused.body
    assert "`!puls`" in refused.html or "!puls" in refused.body
    with dialog.database.session() as s:
        assert s.exec(select(Poll)).all() == []
    # A pulse in the room stays every member's.
    assert "Puls" in dialog.text(ANNA, "!puls")

    dialog.defaults = Defaults(features={"polls": PollSettings(anonymous_pulse_members=True)})
    assert direct_messages(dialog.say(ANNA, "!puls anonym")) == len(dialog.members)


def test_starting_and_closing_anonymous_pulses_in_a_loop_stops_at_the_limit(
    dialog_both: Dialog,
) -> None:
    dialog = dialog_both
    messages = 0
    refusals: list[str] = []
    for _ in range(6):
        sent = dialog.say(CHAIR, "!puls anonym")
        if direct_messages(sent) == 0:
            refusals.append(sent[0].body)
            continue
        messages += direct_messages(sent)
        messages += direct_messages(dialog.say(CHAIR, "!schließen"))
        dialog.now += dt.timedelta(minutes=1)
    # Two pulses: each member got two questions and their two ends, no more.
    assert messages == 2 * 2 * len(dialog.members)
    assert len(refusals) == 4
    assert "schon 2 anonyme Pulse gestartet" in refusals[0]
    assert "Der nächste geht ab Di., 10. März 2026, 10:15 Uhr" in refusals[0]
    # 24 hours after the first one, the next is possible again (and the other member's
    # quota is their own).
    dialog.now = dialog.now.replace(hour=10, minute=15) + dt.timedelta(days=1)
    assert direct_messages(dialog.say(CHAIR, "!puls anonym")) == len(dialog.members)
    dialog.defaults = Defaults(features={"polls": PollSettings(anonymous_pulses_per_day=0)})
    for _ in range(3):
        dialog.say(COORDINATOR, "!puls anonym")
        dialog.say(COORDINATOR, "!schließen")
    with dialog.database.session() as s:
        assert len(s.exec(select(Poll)).all()) == 2 + 1 + 3


# --------------------------------------------------------- answers from the wrong room


def test_an_answer_to_a_direct_poll_counts_only_from_that_direct_message_room(
    dialog: Dialog,
) -> None:
    sent = dialog.say(CHAIR, "!puls anonym")
    to = {s.to_user: s for s in sent if s.to_user is not None}
    # Anna answers her own direct-message poll in the committee room (where everyone can
    # read the event) and in Ben's direct-message room: neither counts.
    dialog.answer_poll(ANNA, to[ANNA].event_id, ("5",))
    dialog.answer_poll(ANNA, to[ANNA].event_id, ("5",), room_id=dialog.dm_room(BEN))
    dialog.answer_poll(ANNA, to[ANNA].event_id, ("5",), room_id="!elsewhere:example.org")
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []
    dialog.answer_poll(ANNA, to[ANNA].event_id, ("5",), room_id=dialog.dm_room(ANNA))
    with dialog.database.session() as s:
        assert len(s.exec(select(PollVote)).all()) == 1


def test_survey_answers_from_another_room_or_after_leaving_the_committee_do_not_count(
    dialog: Dialog,
) -> None:
    by_user = started(dialog)
    anna, ben = by_user[ANNA], by_user[BEN]
    first = polls_of(anna)[0]
    dialog.answer_poll(ANNA, first.event_id, ("5",))  # in the committee room
    assert dialog.reply_plain(ANNA, "Anna im Gremium", anna[-1].event_id) == []
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []
        assert s.exec(select(SurveyComment)).all() == []

    # Ben leaves the committee: his direct-message room still works, his answers don't count.
    del dialog.members[BEN]
    dialog.answer_poll(BEN, polls_of(ben)[0].event_id, ("1",), room_id=dialog.dm_room(BEN))
    assert dialog.reply_plain(BEN, "Ben weg", ben[-1].event_id, room_id=dialog.dm_room(BEN)) == []
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []
        assert s.exec(select(SurveyComment)).all() == []
    # A pulse's direct poll the same: asked while a member, answered after leaving.
    dialog.members[BEN] = "Ben Okafor"
    sent = dialog.say(CHAIR, "!puls anonym")
    to = {s.to_user: s for s in sent if s.to_user is not None}
    del dialog.members[BEN]
    dialog.answer_poll(BEN, to[BEN].event_id, ("1",), room_id=dialog.dm_room(BEN))
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []
    # Anna, still a member, in her own room: counted.
    dialog.answer_poll(ANNA, first.event_id, ("5",), room_id=dialog.dm_room(ANNA))
    with dialog.database.session() as s:
        assert len(s.exec(select(PollVote)).all()) == 1
