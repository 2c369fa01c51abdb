"""What the scheduler posts, derived from the agreements as they are at wake time."""

from __future__ import annotations

import datetime as dt

from commands.reminders.digest import digest_text
from commands.reminders.plan import plan
from storage import lease
from storage.db import Database
from storage.models import Agreement, AgreementStatus, HistoryAction
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, COORDINATOR, Dialog
from tests.unit.reminder_helpers import add_agreement, change_agreement, env_for, fire


def at(m: int, d: int, hh: int = 9, mm: int = 0, y: int = 2026) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=BERLIN)


def test_owner_is_mentioned_before_and_on_the_due_date(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(
        db,
        number=4,
        text="Entwurf <b>an</b> Schulamt",
        due=dt.date(2026, 3, 13),
        owners=[ANNA, BEN],
    )
    env = env_for(dialog)
    assert [d for d in fire(db, at(3, 11, 8, 59), env).due if d.agreement_id == a] == []
    result = fire(db, at(3, 11, 9, 0), env)
    [due] = [d for d in result.due if d.agreement_id == a]
    assert due.kind == "before"
    assert due.reply is not None
    assert not due.late
    reply = due.reply
    assert reply.ref_kind == "agreement"
    assert reply.ref_id == a
    assert reply.notice is False  # m.notice would not notify (push rule suppress_notices)
    assert set(reply.mentions) == {ANNA, BEN}
    assert "am Fr., 13. März 2026 fällig" in reply.body
    assert "#4" in reply.body
    assert 'href="https://matrix.to/#/@anna:example.org">Anna Schmidt</a>' in reply.html
    assert "&lt;b&gt;an&lt;/b&gt;" in reply.html  # user text escaped
    assert "✅" in reply.body
    assert "!später 3 tage" in reply.body
    # Handled: the next wake-up finds nothing for it until the due date.
    assert [d for d in fire(db, at(3, 11, 9, 1), env).due if d.agreement_id == a] == []
    on_due = [d for d in fire(db, at(3, 13, 9, 0), env).due if d.agreement_id == a]
    assert [d.kind for d in on_due] == ["due"]
    assert on_due[0].reply is not None
    assert "Heute fällig" in on_due[0].reply.body


def test_completed_agreement_gets_no_more_reminders(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=1, text="Raum buchen", due=dt.date(2026, 3, 13), owners=[ANNA])
    change_agreement(
        db,
        a,
        at=at(3, 10),
        action=HistoryAction.DONE,
        status=AgreementStatus.DONE,
        closed_at=at(3, 10),
    )
    env = env_for(dialog)
    for moment in (at(3, 11), at(3, 13), at(3, 20), at(3, 27)):
        assert [d for d in fire(db, moment, env).due if d.agreement_id == a] == []


def test_re_dating_and_reassigning_change_the_next_reminder_at_once(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=2, text="Bericht", due=dt.date(2026, 3, 13), owners=[ANNA])
    env = env_for(dialog)
    dialog.say(CHAIR, "!einstellungen digest aus")
    with db.session() as s:
        assert plan(s, at(3, 10, 12), env).next_at == at(3, 11, 9)
    change_agreement(
        db, a, at=at(3, 10, 12), action=HistoryAction.DUE_CHANGED, due_date=dt.date(2026, 3, 20)
    )
    change_agreement(db, a, at=at(3, 10, 12), action=HistoryAction.ASSIGNED, owners=[CARLA])
    with db.session() as s:
        assert plan(s, at(3, 10, 12), env).next_at == at(3, 18, 9)
    [due] = [d for d in fire(db, at(3, 18, 9), env).due if d.agreement_id == a]
    assert due.reply is not None
    assert due.reply.mentions == (CARLA,)
    assert "Fr., 20. März 2026" in due.reply.body


def test_re_dated_to_soon_does_not_fire_the_passed_before_reminder_late(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=2, text="Bericht", due=dt.date(2026, 3, 27), owners=[ANNA])
    # On Thursday 12 March at 14:00 the due date becomes Monday 16 March; its
    # "2 working days before" (Thursday 9:00) has passed already.
    change_agreement(
        db, a, at=at(3, 12, 14), action=HistoryAction.DUE_CHANGED, due_date=dt.date(2026, 3, 16)
    )
    env = env_for(dialog)
    assert [d for d in fire(db, at(3, 12, 14, 1), env).due if d.agreement_id == a] == []
    assert [d.kind for d in fire(db, at(3, 16, 9), env).due if d.agreement_id == a] == ["due"]


def test_overdue_reminders_then_escalation_to_chair_and_coordination(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=5, text="Zahlen liefern", due=dt.date(2026, 3, 13), owners=[BEN])
    env = env_for(dialog)
    got = []
    for moment in (at(3, 11), at(3, 13), at(3, 20), at(3, 27), at(4, 7), at(4, 14)):
        got += [d for d in fire(db, moment, env).due if d.agreement_id == a]
    assert [d.kind for d in got] == ["before", "due", "overdue", "overdue", "overdue"]
    first, last = got[2].reply, got[4].reply
    assert first is not None
    assert last is not None
    assert "Überfällig seit Fr., 13. März 2026" in first.body
    assert "1. Erinnerung" in first.body
    assert first.mentions == (BEN,)
    assert "3. Erinnerung" in last.body
    assert "Vorsitz und Koordination" in last.body
    assert set(last.mentions) == {BEN, CHAIR, COORDINATOR}
    assert "@bot:example.org" not in last.mentions
    # Good Friday 3 April (NW) is skipped: the 3rd overdue reminder came on that Tuesday.
    assert got[4].occurrence_at.astimezone(BERLIN).date() == dt.date(2026, 4, 3)


def test_missed_reminder_is_posted_once_and_marked_late(dialog: Dialog) -> None:
    db = dialog.database
    a = add_agreement(db, number=6, text="Protokoll", due=dt.date(2026, 3, 13), owners=[ANNA])
    env = env_for(dialog)
    # The bot was down from Tuesday until Friday 11:30: one reminder, the due one, late.
    result = fire(db, at(3, 13, 11, 30), env)
    mine = [d for d in result.due if d.agreement_id == a]
    assert [(d.kind, d.reply is not None) for d in mine] == [("before", False), ("due", True)]
    assert mine[1].late
    reply = mine[1].reply
    assert reply is not None
    body = reply.body
    assert body.startswith("Verspätet – geplant war Fr., 13. März 2026, 09:00 Uhr.")
    assert [d for d in fire(db, at(3, 13, 11, 31), env).due if d.agreement_id == a] == []


def test_english_room_gets_english_reminders(dialog: Dialog) -> None:
    dialog.say(CHAIR, "!einstellungen sprache en")
    db = dialog.database
    add_agreement(db, number=1, text="Budget", due=dt.date(2026, 3, 13), owners=[ANNA])
    [due] = [d for d in fire(db, at(3, 13), env_for(dialog)).due if d.agreement_id and d.reply]
    assert due.reply is not None
    assert "Due today" in due.reply.body
    assert "Owners: Anna Schmidt" in due.reply.body
    assert "!snooze 3 days" in due.reply.body


def test_agreement_without_owner_mentions_who_recorded_it(dialog: Dialog) -> None:
    db = dialog.database
    add_agreement(db, number=1, text="Budget", due=dt.date(2026, 3, 13), created_by=CARLA)
    [due] = [d for d in fire(db, at(3, 13), env_for(dialog)).due if d.agreement_id and d.reply]
    assert due.reply is not None
    assert due.reply.mentions == (CARLA,)


# ------------------------------------------------------------------------------ digest


def test_digest_lists_open_items_by_owner_with_overdue_and_this_week(dialog: Dialog) -> None:
    db = dialog.database
    add_agreement(db, number=1, text="Raum buchen", due=dt.date(2026, 3, 6), owners=[ANNA])
    add_agreement(
        db, number=2, text="Einladung schreiben", due=dt.date(2026, 3, 12), owners=[ANNA, BEN]
    )
    add_agreement(db, number=3, text="Haushalt prüfen", due=dt.date(2026, 4, 30), owners=[BEN])
    add_agreement(db, number=4, text="Ohne Person", due=None)
    add_agreement(
        db,
        number=5,
        text="Schon erledigt",
        due=dt.date(2026, 3, 5),
        owners=[ANNA],
        status=AgreementStatus.DONE,
        closed_at=at(3, 5),
    )
    add_agreement(
        db,
        number=6,
        text="Verworfen",
        due=dt.date(2026, 3, 5),
        owners=[ANNA],
        status=AgreementStatus.CANCELLED,
        closed_at=at(3, 5),
    )
    result = fire(db, at(3, 9, 9, 0), env_for(dialog))
    [digest] = [d for d in result.due if d.key.endswith("2026-W11")]
    assert digest.reply is not None
    assert digest.reply.notice
    assert not digest.reply.mentions
    assert digest.reply.body == "\n".join(
        [
            "📋 Wochenüberblick – KW 11",
            "4 offene Verabredungen, davon 1 überfällig und 1 diese Woche fällig.",
            "",
            "Anna Schmidt",
            "• #1 Raum buchen – ⚠️ überfällig seit Fr., 6.3.",
            "• #2 Einladung schreiben – fällig am Do., 12.3. (diese Woche)",
            "",
            "Ben Okafor",
            "• #2 Einladung schreiben – fällig am Do., 12.3. (diese Woche)",
            "• #3 Haushalt prüfen – fällig am Do., 30.4.",
            "",
            "Ohne Verantwortliche",
            "• #4 Ohne Person – ohne Frist",
            "",
            "Seit dem letzten Überblick erledigt: 1 (#5)",
            "",
            "Alle Verabredungen: `!liste`. Erledigt? Mit der Nummer melden, z. B. `!erledigt 1`.",
        ]
    )
    assert "<b>Anna Schmidt</b>" in digest.reply.html
    # Once a week: the same Monday it is not posted again.
    assert [d for d in fire(db, at(3, 9, 15), env_for(dialog)).due if d.kind == "digest"] == []


def test_digest_is_skipped_when_nothing_is_open(dialog: Dialog) -> None:
    db = dialog.database
    add_agreement(
        db,
        number=1,
        text="Fertig",
        due=dt.date(2026, 3, 5),
        owners=[ANNA],
        status=AgreementStatus.DONE,
        closed_at=at(3, 5),
    )
    result = fire(db, at(3, 9, 9, 0), env_for(dialog))
    [digest] = [d for d in result.due if d.key.endswith("2026-W11")]
    assert digest.reply is None  # recorded as skipped, nothing posted
    assert (
        digest_text(
            lang="de", now=dt.datetime(2026, 3, 9, 9, tzinfo=BERLIN), open_items=[], owners={}
        )
        is None
    )


def test_digest_setting_changes_day_and_time_or_switches_it_off(dialog: Dialog) -> None:
    db = dialog.database
    add_agreement(db, number=1, text="Offen", due=dt.date(2026, 3, 30), owners=[ANNA])
    dialog.say(CHAIR, "!einstellungen digest freitag 13:30")
    env = env_for(dialog)
    assert [d for d in fire(db, at(3, 9, 10, 20), env).due if d.kind == "digest"] == []
    with db.session() as s:
        assert plan(s, at(3, 9, 10, 20), env).next_at == at(3, 13, 13, 30)
    friday = [d for d in fire(db, at(3, 13, 13, 30), env).due if d.kind == "digest"]
    assert len(friday) == 1
    assert friday[0].reply is not None
    dialog.now = at(3, 13, 14)
    dialog.say(CHAIR, "!einstellungen digest aus")
    assert [d for d in fire(db, at(3, 20, 13, 30), env).due if d.kind == "digest"] == []


def test_digest_text_in_english() -> None:
    a = Agreement(
        id=1,
        room_id="!r",
        number=7,
        text="Budget",
        status=AgreementStatus.OPEN,
        due_date=dt.date(2026, 3, 2),
        created_by=BEN,
        created_at=at(3, 1),
        updated_at=at(3, 1),
        source_event_id="$x",
    )
    rich = digest_text(
        lang="en",
        now=dt.datetime(2026, 3, 9, 9, tzinfo=BERLIN),
        open_items=[a],
        owners={1: [BEN]},
        names={BEN: "Ben Okafor"},
    )
    assert rich is not None
    assert "Weekly overview – week 11" in rich.plain
    assert "1 open agreement, 1 of them overdue" in rich.plain
    assert "#7 Budget – ⚠️ overdue since Mon, 2 Mar" in rich.plain


def test_left_rooms_get_nothing(dialog: Dialog, sqlite_db: Database) -> None:
    from storage import rooms

    add_agreement(sqlite_db, number=1, text="x", due=dt.date(2026, 3, 13), owners=[ANNA])
    with sqlite_db.session() as s:
        rooms.mark_left(s, dialog.room_id, at=at(3, 10))
    assert fire(sqlite_db, at(3, 13), env_for(dialog)).due == []


def test_switching_reminders_on_for_existing_agreements_posts_no_backlog(dialog: Dialog) -> None:
    db = dialog.database
    old = add_agreement(
        db,
        number=1,
        text="Alt und überfällig",
        due=dt.date(2026, 2, 20),
        owners=[ANNA],
        created_at=at(2, 1),
    )
    new = add_agreement(
        db,
        number=2,
        text="Bald fällig",
        due=dt.date(2026, 3, 13),
        owners=[ANNA],
        created_at=at(2, 1),
    )
    with db.session() as s:  # the first scheduler start after the upgrade
        lease.ensure_epoch(s, at(3, 10, 12))
        lease.ensure_epoch(s, at(3, 20, 12))  # later starts keep the first moment
    env = env_for(dialog)
    assert fire(db, at(3, 10, 12, 1), env).due == []
    assert [d.agreement_id for d in fire(db, at(3, 11, 9), env).due] == [new]
    # The old one's 3rd overdue reminder (13 March) still comes: only the backlog from
    # before the switch (27 February, 6 March) is dropped.
    later = fire(db, at(3, 13, 9), env).due
    assert sorted((d.kind, d.agreement_id) for d in later if d.reply) == [
        ("due", new),
        ("overdue", old),
    ]
