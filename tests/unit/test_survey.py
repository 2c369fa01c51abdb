"""The annual survey: started by the coordination, the questionnaire by direct message to
each member, answers nobody can trace, one reminder, a thank-you, the end."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Mapping

import pytest
from sqlalchemy import select as sql_select
from sqlmodel import SQLModel, select

from bot.runtime.matrix_content import text_of
from bot.runtime.scheduler import run_timers
from commands.core.timers import TimerEnv
from storage.models import Poll, PollVote, Survey, SurveyComment, SurveyParticipant
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, STRANGER, Dialog, Sent

START = "org.matrix.msc3381.poll.start"
END = "org.matrix.msc3381.poll.end"
STATEMENTS = 6


def env_of(*dialogs: Dialog) -> TimerEnv:
    members: dict[str, Mapping[str, str]] = {d.room_id: d.members for d in dialogs}
    return TimerEnv(members=lambda room_id: members.get(room_id, {}), bot_user=dialogs[0].bot_user)


def wake(dialog: Dialog, at: dt.datetime, env: TimerEnv) -> list[Sent]:
    """What the scheduler's timers send when it wakes up at `at`."""
    before = dialog._last_row()
    with dialog.database.session() as s:
        run_timers(s, at, env, dialog.registry.timers)
        s.commit()
    return dialog.sent_since(before)


def started(dialog: Dialog, *others: Dialog) -> dict[str, list[Sent]]:
    """The coordination starts the survey; the timer sends each member their questions."""
    shown = dialog.text(COORDINATOR, "!auswertung starten")
    assert "Die Jahresbefragung 2026 ist gestartet" in shown
    sent = wake(dialog, dialog.now, env_of(dialog, *others))
    by_user: dict[str, list[Sent]] = {}
    for s in sent:
        if s.to_user is not None:
            by_user.setdefault(s.to_user, []).append(s)
    return by_user


def polls_of(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.event_type == START]


def answer_all(dialog: Dialog, who: str, sent: list[Sent], value: str) -> list[Sent]:
    out: list[Sent] = []
    for poll in polls_of(sent):
        out += dialog.answer_poll(who, poll.event_id, (value,), room_id=f"!dm-{who}")
    return out


def test_each_member_gets_the_statements_as_polls_by_direct_message(dialog: Dialog) -> None:
    by_user = started(dialog)
    assert sorted(by_user) == sorted(dialog.members)
    anna = by_user[ANNA]
    assert "Die Jahresbefragung des Gremiums" in anna[0].body
    # What the member is promised, and how far the promise goes (docs/polls.md).
    assert "sehen weder das Gremium noch die Koordination" in anna[0].body
    assert "ohne Ihren Namen und ohne ihre Reihenfolge" in anna[0].body
    assert "wer den Bot technisch betreibt" in anna[0].body
    polls = polls_of(anna)
    assert len(polls) == STATEMENTS
    first = polls[0].content[START]
    assert first["kind"] == "org.matrix.msc3381.poll.undisclosed"
    # 1–5, and "kann ich nicht beurteilen" for whoever cannot judge the statement.
    assert [a["id"] for a in first["answers"]] == ["1", "2", "3", "4", "5", "0"]
    assert text_of(first["answers"][5]) == "kann ich nicht beurteilen"
    assert "Das Gremium hat klare Ziele, die alle Mitglieder teilen." in polls[0].body
    assert "Was sollte sich an der Arbeit des Gremiums ändern?" in anna[-1].body
    with dialog.database.session() as s:
        survey = s.exec(select(Survey)).one()
        assert survey.invited == 5
    # A restart of the timer sends nobody anything twice.
    assert wake(dialog, dialog.now + dt.timedelta(minutes=1), env_of(dialog)) == []


def test_a_member_who_answers_everything_is_thanked_once_and_may_change_answers(
    dialog: Dialog,
) -> None:
    by_user = started(dialog)
    replies = answer_all(dialog, ANNA, by_user[ANNA], "4")
    [thanks] = replies
    assert thanks.to_user == ANNA
    assert f"Sie haben alle {STATEMENTS} Aussagen beantwortet" in thanks.body
    assert answer_all(dialog, ANNA, by_user[ANNA], "5") == []  # changed, not thanked again
    with dialog.database.session() as s:
        votes = s.exec(select(PollVote)).all()
        assert len(votes) == STATEMENTS
        assert {json.loads(v.answers)[0] for v in votes} == {"5"}
        assert s.get(SurveyParticipant, (1, ANNA)) is not None


def test_answers_from_someone_else_or_after_the_end_do_not_count(dialog: Dialog) -> None:
    by_user = started(dialog)
    first = polls_of(by_user[ANNA])[0]
    # A stranger (or Ben) answering in Anna's direct-message room does not count.
    assert dialog.answer_poll(STRANGER, first.event_id, ("1",), room_id=dialog.dm_room(ANNA)) == []
    assert dialog.answer_poll(BEN, first.event_id, ("1",), room_id=dialog.dm_room(ANNA)) == []
    dialog.answer_poll(ANNA, first.event_id, ("9",), room_id=dialog.dm_room(ANNA))  # no such answer
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []
    wake(dialog, dialog.now + dt.timedelta(days=15), env_of(dialog))
    dialog.answer_poll(ANNA, first.event_id, ("3",), room_id=dialog.dm_room(ANNA))
    with dialog.database.session() as s:
        assert s.exec(select(PollVote)).all() == []


def test_the_free_text_is_a_reply_kept_without_a_name(dialog: Dialog) -> None:
    by_user = started(dialog)
    question = by_user[BEN][-1]
    [saved] = dialog.reply_plain(
        BEN, "Mehr Zeit für Schulthemen", question.event_id, room_id=dialog.dm_room(BEN)
    )
    assert "ohne Ihren Namen" in saved.body
    [changed] = dialog.reply_plain(
        BEN, "Kürzere Sitzungen", question.event_id, room_id=dialog.dm_room(BEN)
    )
    assert "ersetzt" in changed.body
    # Carla answering Ben's question (a forwarded message, say) is not Ben's answer.
    assert dialog.reply_plain(CARLA, "Nein", question.event_id, room_id=dialog.dm_room(BEN)) == []
    too_long = dialog.reply_plain(BEN, "x" * 2001, question.event_id, room_id=dialog.dm_room(BEN))
    assert "zu lang" in too_long[0].body
    with dialog.database.session() as s:
        assert [c.text for c in s.exec(select(SurveyComment))] == ["Kürzere Sitzungen"]


def test_those_not_done_are_reminded_once_before_the_end_and_the_end_is_announced(
    dialog: Dialog,
) -> None:
    by_user = started(dialog)
    answer_all(dialog, ANNA, by_user[ANNA], "4")
    dialog.answer_poll(BEN, polls_of(by_user[BEN])[0].event_id, ("2",), room_id=dialog.dm_room(BEN))
    env = env_of(dialog)
    assert wake(dialog, dialog.now + dt.timedelta(days=10), env) == []  # too early
    reminders = wake(dialog, dialog.now + dt.timedelta(days=12), env)
    assert sorted(r.to_user for r in reminders if r.to_user) == sorted(set(dialog.members) - {ANNA})
    [ben] = [r for r in reminders if r.to_user == BEN]
    assert f"Sie haben 1 von {STATEMENTS} Aussagen beantwortet" in ben.body
    assert wake(dialog, dialog.now + dt.timedelta(days=12, hours=12), env) == []  # once only

    ended = wake(dialog, dialog.now + dt.timedelta(days=15), env)
    ends = [e for e in ended if e.event_type == END]
    assert len(ends) == STATEMENTS * len(dialog.members)
    [room] = [e for e in ended if e.room_id == dialog.room_id]
    assert "Die Jahresbefragung 2026 ist abgeschlossen: 2 von 5 Mitgliedern haben" in room.body
    assert wake(dialog, dialog.now + dt.timedelta(days=16), env) == []


def test_starting_twice_by_a_member_or_with_a_bad_end_is_refused(dialog: Dialog) -> None:
    assert "der Koordination (Bildungsbüro) vorbehalten" in dialog.text(
        CHAIR, "!auswertung starten"
    )
    shown = dialog.text(COORDINATOR, "!auswertung starten bis heute 18 Uhr")
    assert "zu früh" in shown
    shown = dialog.text(COORDINATOR, "!auswertung starten bis Sankt Nimmerlein")
    assert "verstehe ich nicht" in shown
    with dialog.database.session() as s:
        assert s.exec(select(Survey)).all() == []
    assert "läuft bis" in dialog.text(COORDINATOR, "!auswertung starten bis 31.3.")
    assert "läuft die Jahresbefragung schon" in dialog.text(COORDINATOR, "!auswertung starten")
    with dialog.database.session() as s:
        assert len(s.exec(select(Survey)).all()) == 1
        assert len(s.exec(select(Poll)).all()) == STATEMENTS


def test_all_committees_at_once_from_the_coordinations_room(dialog: Dialog) -> None:
    other = Dialog(dialog.database, room_id="!jugend:example.org", _ids=itertools.count(500))
    other.members = {CARLA: "Carla Weber", BEN: "Ben Okafor", "@dora:example.org": "Dora"}
    other.say(CARLA, "!hilfe")  # the bot knows the second room
    shown = dialog.text(COORDINATOR, "!auswertung starten alle")
    # Unnamed rooms are named by the end of their ID, never after their members.
    assert "gestartet für: Raum ohne Namen (…mium), Raum ohne Namen (…gend)" in shown
    sent = wake(dialog, dialog.now, env_of(dialog, other))
    carla = [s for s in sent if s.to_user == CARLA]
    assert len(polls_of(carla)) == 2 * STATEMENTS  # asked once per committee
    assert "läuft schon" in dialog.text(COORDINATOR, "!auswertung starten alle")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_questionnaire_speaks_the_rooms_language(dialog: Dialog, lang: str) -> None:
    if lang == "en":
        dialog.say(CHAIR, "!einstellungen sprache englisch")
    by_user = started(dialog) if lang == "de" else None
    if by_user is None:
        assert "has started" in dialog.text(COORDINATOR, "!evaluation start")
        sent = wake(dialog, dialog.now, env_of(dialog))
        polls = polls_of([s for s in sent if s.to_user == ANNA])
        assert "The committee has clear goals that all its members share." in polls[0].body
        assert text_of(polls[0].content[START]["answers"][4]) == "5 – fully applies"
    else:
        assert "5 – trifft voll zu" in json.dumps(
            polls_of(by_user[ANNA])[0].content, ensure_ascii=False
        )


def test_no_table_holds_a_user_id_in_the_same_row_as_an_answer(dialog: Dialog) -> None:
    by_user = started(dialog)
    for who, value in ((ANNA, "5"), (BEN, "2"), (CARLA, "3")):
        answer_all(dialog, who, by_user[who], value)
        question = by_user[who][-1]
        dialog.reply_plain(who, f"Anmerkung-{value}-XYZ", question.event_id, room_id=f"!dm-{who}")
    poll, *_ = dialog.say(CHAIR, "!puls")
    dialog.answer_poll(ANNA, poll.event_id, ("4",))
    users = list(dialog.members)
    answer_tables = {"poll_vote", "survey_comment"}
    checked = 0
    with dialog.database.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in s.execute(sql_select(table)).mappings():
                values = json.dumps(dict(row), default=str, ensure_ascii=False)
                has_user = any(u in values for u in users)
                if table.name in answer_tables:
                    checked += 1
                    assert not has_user, (table.name, values)
                elif has_user:
                    assert "XYZ" not in values, (table.name, values)  # no free text beside an ID
    assert checked == 3 * STATEMENTS + 3 + 1


def test_the_chair_sees_the_surveys_figures_with_a_chart_small_groups_not_broken_down(
    dialog: Dialog,
) -> None:
    by_user = started(dialog)
    for who, value in ((ANNA, "5"), (BEN, "2"), (CARLA, "3")):
        answer_all(dialog, who, by_user[who], value)
    # Only two answer the first statement of a second, smaller committee's survey? Here:
    # only Anna and Ben write a free text — two are too few to be shown.
    for who in (ANNA, BEN):
        question = by_user[who][-1]
        dialog.reply_plain(who, f"Anmerkung von {who}", question.event_id, room_id=f"!dm-{who}")
    wake(dialog, dialog.now + dt.timedelta(days=15), env_of(dialog))
    dialog.now += dt.timedelta(days=16)

    assert "dürfen nur der Vorsitz" in dialog.text(ANNA, "!auswertung")
    report, chart = dialog.say(CHAIR, "!auswertung")
    assert "3 von 5 Mitgliedern haben teilgenommen (60 %)" in report.body
    assert "Das Gremium hat klare Ziele, die alle Mitglieder teilen." in report.body
    assert "Mittelwert 3,3 von 5 aus 3 Antworten" in report.body
    assert "2 Freitext-Antworten – ich zeige sie erst ab 3 Antworten" in report.body
    assert "Anmerkung" not in report.body
    assert chart.content["msgtype"] == "m.image"
    assert chart.content["info"]["mimetype"] == "image/png"
    assert chart.content["filename"] == "auswertung-2026.png"


def test_two_answers_to_a_statement_show_the_count_only(dialog: Dialog) -> None:
    by_user = started(dialog)
    for who in (ANNA, BEN):
        answer_all(dialog, who, by_user[who], "4")
    wake(dialog, dialog.now + dt.timedelta(days=15), env_of(dialog))  # figures once ended
    dialog.now += dt.timedelta(days=16)
    report, *_ = dialog.say(COORDINATOR, "!auswertung")
    assert "2 von 5 Mitgliedern haben teilgenommen (40 %)" in report.body
    assert "2 Antworten – Mittelwert und Verteilung zeige ich erst ab 3 Antworten." in report.body
    assert "Mittelwert 4,0" not in report.body
