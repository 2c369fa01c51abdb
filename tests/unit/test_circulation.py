"""Decisions by circulation (`!umlauf`): a disclosed poll to every voting member that
passes when the last one answers, fails at once on an objection (and lands on the next
agenda), ends at its deadline, applies the room's rules (participation, majority, the
chair's tie-break), numbers each Beschluss per year in the room's time zone, and refuses
bad input naming the rule."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from storage.models import AgendaKind, PollVote
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, Dialog
from tests.unit.decision_helpers import (
    POLL_END,
    POLL_START,
    VOTING,
    agenda_items,
    decisions,
    name_voting_members,
    start,
    vote,
    wake_up,
)

MOTION = "Zuschuss von 500 Euro für das Sommerfest"


@pytest.fixture
def room(dialog: Dialog) -> Dialog:
    name_voting_members(dialog, *VOTING)
    return dialog


# ------------------------------------------------------------------------------ passing


def test_a_circulation_passes_when_the_last_voting_member_answers(room: Dialog) -> None:
    poll, told = start(room, f"!umlauf {MOTION}")
    block = poll.content[POLL_START]
    assert block["kind"] == "org.matrix.msc3381.poll.disclosed"  # no secret ballot
    assert [a["id"] for a in block["answers"]] == ["yes", "no", "abstain", "objection"]
    assert "4. Widerspruch gegen das Umlaufverfahren" in poll.body
    # Every voting member is mentioned (notified); the coordinating office votes not.
    assert set(told.mentions) == set(VOTING)
    assert not told.notice
    assert "Abstimmen bis Mo., 23. März 2026, 23:59 Uhr" in told.body  # 14 days, the default
    assert "abstimmen müssen mehr als die Hälfte der stimmberechtigten Mitglieder" in told.body
    assert "(hier 3 von 4)" in told.body

    assert vote(room, ANNA, poll, "yes") == []
    assert vote(room, BEN, poll, "yes") == []
    assert vote(room, BEN, poll, "no") == []  # Ben changes his mind: it replaces his vote
    assert vote(room, CARLA, poll, "abstain") == []
    end, result = vote(room, CHAIR, poll, "yes")  # the last voting member

    assert end.event_type == POLL_END
    assert end.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": poll.event_id}
    assert "Beschluss 2026/1" in end.body
    assert "Alle stimmberechtigten Mitglieder haben abgestimmt." in result.body
    assert "✅ Beschluss 2026/1 – angenommen." in result.body
    assert (
        "Angewandte Regel: 4 von 4 stimmberechtigten Mitgliedern haben abgestimmt (nötig: 3); "
        "Ja 2, Nein 1, Enthaltung 1; einfache Mehrheit: angenommen"
    ) in result.body
    assert agenda_items(room) == []

    listed = room.text(ANNA, "!beschlüsse")
    assert "Beschlüsse 2026" in listed
    assert f"2026/1 (Mo., 9. März 2026) „{MOTION}“ – im Umlaufverfahren" in listed
    assert "Ja 2, Nein 1, Enthaltung 1" in listed
    # A vote after the end changes nothing and says so.
    [late] = vote(room, CARLA, poll, "yes")
    assert "ist schon beendet (beschlossen); Ihre Stimme zählt nicht mehr" in late.body
    assert decisions(room)[0].abstain == 1


def test_a_vote_by_someone_not_voting_is_answered_once_and_not_counted(room: Dialog) -> None:
    poll, _ = start(room, f"!umlauf {MOTION}")
    [answer] = vote(room, COORDINATOR, poll, "yes")
    assert answer.mentions == (COORDINATOR,)
    assert (
        "Bildungsbüro, Ihre Stimme zu „Zuschuss von 500 Euro für das Sommerfest“ zählt nicht: "
        "Nach der Geschäftsordnung stimmen im Umlaufverfahren nur die stimmberechtigten "
        "Mitglieder ab (Anna Schmidt, Ben Okafor, Carla Weber, Vorsitz Meyer)."
    ) in answer.body
    assert vote(room, COORDINATOR, poll, "no") == []  # told once
    with room.database.session() as s:
        assert list(s.exec(select(PollVote))) == []


def test_members_without_polls_vote_by_replying_to_the_message(room: Dialog) -> None:
    poll, _ = start(room, f"!umlauf {MOTION}")
    assert "antworten Sie auf diese Nachricht mit „Ja“" in poll.body
    [counted] = room.reply_plain(ANNA, "Ja", poll.event_id)
    assert f"Ihre Stimme zu „{MOTION}“ ist gezählt: Ja" in counted.body
    assert room.reply_plain(BEN, "Ich finde das gut, aber teuer.", poll.event_id) == []
    with room.database.session() as s:
        assert len(list(s.exec(select(PollVote)))) == 1


# ---------------------------------------------------------------------------- objection


def test_an_objection_ends_it_at_once_and_puts_it_on_the_next_agenda(room: Dialog) -> None:
    poll, _ = start(room, f"!umlauf {MOTION} bis Freitag")
    vote(room, ANNA, poll, "yes")
    end, result = vote(room, BEN, poll, "objection")
    assert end.event_type == POLL_END
    assert "Nicht zustande gekommen – Widerspruch gegen das Umlaufverfahren." in result.body
    assert "nach der Geschäftsordnung kommt der Beschluss dann nicht zustande" in result.body
    assert "Der Antrag steht auf der Tagesordnung der nächsten Sitzung." in result.body
    [item] = agenda_items(room)
    [decision] = decisions(room)
    assert (item.kind, item.ref_id, item.text) == (AgendaKind.CIRCULATION, decision.id, MOTION)
    assert (decision.outcome, decision.number) == ("objection", None)

    [second] = vote(room, CARLA, poll, "objection")
    assert "ist schon beendet (nicht zustande gekommen – Widerspruch)" in second.body
    assert "ein Widerspruch ändert daran nichts mehr" in second.body
    assert len(agenda_items(room)) == 1
    listed = room.text(ANNA, "!beschlüsse")
    assert "noch keinen Beschluss gefasst" in listed
    assert f"„{MOTION}“ – nicht zustande gekommen – Widerspruch" in listed


# ----------------------------------------------------------------------------- deadline


def test_at_the_deadline_too_few_votes_fail_and_go_on_the_agenda(room: Dialog) -> None:
    poll, told = start(room, f"!umlauf {MOTION} bis Freitag")
    assert "Abstimmen bis Fr., 13. März 2026, 23:59 Uhr" in told.body
    vote(room, ANNA, poll, "yes")
    vote(room, BEN, poll, "yes")
    deadline = dt.datetime(2026, 3, 13, 23, 59, tzinfo=room.now.tzinfo)
    assert wake_up(room, deadline - dt.timedelta(minutes=1)) == []
    end, result = wake_up(room, deadline)
    assert end.event_type == POLL_END
    assert "Die Frist ist am Fr., 13. März 2026, 23:59 Uhr abgelaufen." in result.body
    assert "Nicht zustande gekommen – zu geringe Beteiligung." in result.body
    assert "2 von 4 stimmberechtigten Mitgliedern haben abgestimmt (nötig: 3)" in result.body
    assert "Der Antrag steht auf der Tagesordnung der nächsten Sitzung." in result.body
    assert [i.kind for i in agenda_items(room)] == [AgendaKind.CIRCULATION]
    assert wake_up(room, deadline + dt.timedelta(minutes=5)) == []  # once, even after a restart
    room.now = deadline + dt.timedelta(hours=1)
    [late] = vote(room, CARLA, poll, "yes")
    assert "ist schon beendet (nicht zustande gekommen – zu geringe Beteiligung)" in late.body


def test_a_vote_after_the_deadline_before_the_timer_ends_it_as_it_stood(room: Dialog) -> None:
    poll, _ = start(room, f"!umlauf {MOTION} bis morgen")
    for who in (ANNA, BEN, CARLA):
        vote(room, who, poll, "yes")
    room.now = dt.datetime(2026, 3, 11, 8, 0, tzinfo=room.now.tzinfo)  # the bot was down
    sent = vote(room, CHAIR, poll, "no")
    assert [s.event_type for s in sent] == [POLL_END, "m.room.message", "m.room.message"]
    assert "Die Frist ist am Di., 10. März 2026, 23:59 Uhr abgelaufen." in sent[1].body
    assert "Ja 3, Nein 0, Enthaltung 0" in sent[1].body
    assert "Beschluss 2026/1 – angenommen" in sent[1].body
    assert "ist schon beendet (beschlossen)" in sent[2].body


# ---------------------------------------------------------------------------- majority


def test_a_tie_fails_without_the_chairs_tie_break(room: Dialog) -> None:
    poll, _ = start(room, f"!umlauf {MOTION}")
    for who, answer in ((ANNA, "yes"), (BEN, "no"), (CARLA, "no"), (CHAIR, "yes")):
        sent = vote(room, who, poll, answer)
    result = sent[-1].body
    assert "❌ Abgelehnt." in result
    assert "Ja 2, Nein 2, Enthaltung 0; einfache Mehrheit: abgelehnt (Stimmengleichheit)" in result
    assert [i.ref_id for i in agenda_items(room)] == [decisions(room)[0].id]


def test_with_the_chairs_tie_break_a_tie_passes_when_the_chair_voted_yes(room: Dialog) -> None:
    said = room.text(CHAIR, "!geschäftsordnung setze umlauf stichentscheid des vorsitzes")
    assert "Stimme des Vorsitzes" in said, said
    poll, told = start(room, f"!umlauf {MOTION}")
    assert "bei Stimmengleichheit entscheidet die Stimme des Vorsitzes" not in told.body
    for who, answer in ((ANNA, "no"), (BEN, "no"), (CARLA, "yes"), (CHAIR, "yes")):
        sent = vote(room, who, poll, answer)
    result = sent[-1].body
    assert "✅ Beschluss 2026/1 – angenommen." in result
    assert "Stimmengleichheit, durch die Stimme des Vorsitzes angenommen" in result
    assert agenda_items(room) == []

    poll, _ = start(room, "!umlauf Zweiter Antrag")
    for who, answer in ((ANNA, "yes"), (BEN, "yes"), (CARLA, "no"), (CHAIR, "no")):
        sent = vote(room, who, poll, answer)
    assert "abgelehnt (Stimmengleichheit)" in sent[-1].body  # the chair voted no


# ---------------------------------------------------------------------------- numbering


def _passes(dialog: Dialog, motion: str) -> str:
    poll, _ = start(dialog, f"!umlauf {motion}")
    for who in VOTING:
        sent = vote(dialog, who, poll, "yes")
    return sent[-1].body


def test_numbers_count_per_year_of_the_rooms_time_zone(room: Dialog) -> None:
    berlin = room.now.tzinfo
    room.now = dt.datetime(2026, 12, 31, 23, 30, tzinfo=berlin)
    assert "Beschluss 2026/1 –" in _passes(room, "Silvesterantrag")
    # 00:30 in Berlin is still 2026 in UTC: the room's year counts.
    room.now = dt.datetime(2027, 1, 1, 0, 30, tzinfo=berlin)
    assert "Beschluss 2027/1 –" in _passes(room, "Neujahrsantrag")
    assert "Beschluss 2027/2 –" in _passes(room, "Zweiter Antrag")
    assert "Silvesterantrag" in room.text(ANNA, "!beschlüsse 2026")
    this_year = room.text(ANNA, "!beschlüsse")
    assert "Beschlüsse 2027" in this_year
    assert "2027/1" in this_year
    assert "2027/2" in this_year
    assert "Silvesterantrag" not in this_year


def test_in_new_york_the_year_turns_later_than_in_utc(room: Dialog) -> None:
    assert "America/New_York" in room.text(CHAIR, "!einstellungen zeitzone America/New_York")
    room.now = dt.datetime(2027, 1, 1, 3, 0, tzinfo=dt.UTC)  # 22:00 on 31 December there
    assert "Beschluss 2026/1 –" in _passes(room, "Später Antrag")
    room.now = dt.datetime(2027, 1, 1, 6, 0, tzinfo=dt.UTC)  # 01:00 on 1 January there
    assert "Beschluss 2027/1 –" in _passes(room, "Früher Antrag")


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        ("!umlauf", "Über welchen Antrag soll im Umlaufverfahren abgestimmt werden?"),
        ("!umlauf   bis Freitag", "Über welchen Antrag soll im Umlaufverfahren abgestimmt werden?"),
        (f"!umlauf {MOTION} bis heute 8 Uhr", "liegt in der Vergangenheit"),
        (
            f"!umlauf {MOTION} bis 30.4.",
            "Die Frist Do., 30. April 2026, 23:59 Uhr ist länger, als die Geschäftsordnung "
            "erlaubt: Ein Umlaufverfahren dauert höchstens 14 Tage, hier also bis Mo., "
            "23. März 2026, 23:59 Uhr.",
        ),
        (
            f"!umlauf {MOTION} bis Sankt Nimmerlein",
            "Die Frist „Sankt Nimmerlein“ verstehe ich nicht",
        ),
        ("!umlauf " + "x" * 1001, "Der Antrag ist zu lang (1001 Zeichen, höchstens 1000)"),
    ],
)
def test_bad_circulations_are_refused_naming_the_rule_and_start_nothing(
    room: Dialog, command: str, refusal: str
) -> None:
    sent = room.say(CHAIR, command)
    assert [s.event_type for s in sent] == ["m.room.message"]
    assert refusal in sent[0].body
    assert "Ich habe nichts gestartet." in sent[0].body
    assert decisions(room) == []


def test_the_rules_period_is_the_maximum_and_members_may_not_start_one(room: Dialog) -> None:
    room.text(CHAIR, "!geschäftsordnung setze umlauf frist 7 tage")
    assert "höchstens 7 Tage" in room.text(CHAIR, f"!umlauf {MOTION} bis 20.3.")
    _poll, told = start(room, f"!umlauf {MOTION}")
    assert "Abstimmen bis Mo., 16. März 2026, 23:59 Uhr" in told.body
    refused = room.text(ANNA, f"!umlauf {MOTION}")
    assert "dürfen nur der Vorsitz und die Koordination" in refused
    _poll, told = start(room, "!umlauf Antrag der Koordination", who=COORDINATOR)
    assert "Antrag der Koordination" in told.body


def test_an_english_room_decides_by_circulation_in_english(room: Dialog) -> None:
    room.text(CHAIR, "!settings language english")
    poll, told = start(room, "!circulation Grant for the summer party by Friday")
    block = poll.content[POLL_START]
    texts = [a["org.matrix.msc1767.text"] for a in block["answers"]]
    assert texts == ["Yes", "No", "Abstain", "Objection to deciding by circulation"]
    assert "Vote by Fri, 13 March 2026, 23:59" in told.body
    assert "more than half of the voting members" in told.body.lower()
    [refused] = room.say(CHAIR, "!circulation")
    assert "Which motion shall be decided by circulation?" in refused.body
    [other] = vote(room, COORDINATOR, poll, "yes")
    assert "under the rules of procedure only the voting members vote" in other.body
    for who in VOTING:
        sent = vote(room, who, poll, "yes")
    assert "✅ Decision 2026/1 – passed." in sent[-1].body
    assert "yes 4, no 0, abstention 0; simple majority: passed" in sent[-1].body
