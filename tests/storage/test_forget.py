"""Erasure and access on request: `gremienbot forget` replaces a person by "ehemaliges
Mitglied N" everywhere (chat and exports alike), `export --user` writes what is stored
about them; on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select
from sqlmodel import SQLModel, select

from bot.config import Config, DatabaseConfig
from bot.forget import run_forget
from bot.transfer import run_export
from commands.core.defaults import Defaults
from commands.core.timers import TimerEnv
from commands.exports.run import FORMATS, export, make_scope
from commands.polls.config import poll_settings
from commands.reminders.plan import plan
from storage import erasure
from storage.db import Database
from storage.models import Agreement, AgreementOwner, PollVote, RoomRole
from storage.voters import voter_hash
from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog

POLL_START = "org.matrix.msc3381.poll.start"
KEY = poll_settings(Defaults()).voter_key


def hashing(scope: str, user_id: str) -> str:
    return voter_hash(KEY, scope, user_id)


def committee(dialog: Dialog) -> None:
    """Anna in every place the bot keeps a person."""
    dialog.say(ANNA, f"!verabredung Bericht an Schulamt {ANNA} {BEN} bis Freitag")
    dialog.say(BEN, f"!notiz 1 Entwurf von {ANNA} liegt vor")
    dialog.say(ANNA, f"!verabredung Protokoll {ANNA}")
    dialog.say(ANNA, "!erledigt 2 verschickt")
    dialog.say(CHAIR, f"!rolle {ANNA} vorsitz")
    dialog.say(ANNA, f"!erinnere morgen 10 Uhr Unterlagen an {ANNA} schicken")
    dialog.say(CHAIR, "!sitzung start Frühjahr")
    dialog.chat(ANNA, "Guten Morgen")
    dialog.chat(BEN, "Hallo")
    dialog.say(CHAIR, "!sitzung ende")
    [poll] = [s for s in dialog.say(ANNA, "!puls") if s.event_type == POLL_START]
    for who, value in ((ANNA, "5"), (BEN, "4"), (CARLA, "2")):
        dialog.answer_poll(who, poll.event_id, (value,))


def rows_mentioning(db: Database, *needles: str) -> list[tuple[str, str]]:
    found = []
    with db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in s.execute(sql_select(table)).mappings():
                values = json.dumps(dict(row), default=str, ensure_ascii=False)
                if any(n in values for n in needles):
                    found.append((table.name, values))
    return found


def exported(db: Database, fmt: str, now: dt.datetime) -> str:
    out = io.BytesIO()
    with db.session() as s:
        scope = make_scope(room_ids=None, period=None, lang="de", tz=Defaults().zone, now=now)
        export(s, FORMATS[fmt], scope, out, lambda what, rows: None)
    return out.getvalue().decode("utf-8-sig", errors="replace")


def test_every_column_is_classified_for_erasure() -> None:
    assert erasure.unclassified() == []


def test_forget_replaces_the_person_everywhere_and_the_record_stays_consistent(
    db: Database,
) -> None:
    dialog = Dialog(db)
    committee(dialog)
    assert rows_mentioning(db, ANNA)
    with db.session() as s:
        votes_before = sorted(v.answers for v in s.exec(select(PollVote)))
        done = erasure.erase(s, ANNA, voter_hash=hashing)
    assert done.pseudonym == "ehemaliges Mitglied 1"
    assert done.names == ["Anna Schmidt"]
    assert done.open_agreements == [(dialog.room_id, 1)]
    assert done.counts["agreement_owner.user_id: pseudonym"] == 2
    assert done.counts["room_role: deleted"] == 1
    assert done.counts["poll_vote/survey_comment: cut loose from the voter hash"] == 1

    # Neither the user ID nor the display name is anywhere in the database.
    assert rows_mentioning(db, ANNA, "Anna Schmidt") == []
    with db.session() as s:
        number = {a.id: a.number for a in s.exec(select(Agreement))}
        owners = s.exec(select(AgreementOwner)).all()
        assert sorted((number[o.agreement_id], o.user_id) for o in owners) == [
            (1, BEN),
            (1, "ehemaliges Mitglied 1"),
            (2, "ehemaliges Mitglied 1"),
        ]
        assert s.exec(select(RoomRole)).all() == []
        # Results are unchanged; nobody's hash points at the answer any more.
        votes = s.exec(select(PollVote)).all()
        assert sorted(v.answers for v in votes) == votes_before
        poll_id = votes[0].poll_id
        assert hashing(f"poll:{poll_id}", ANNA) not in {v.voter for v in votes}
        assert hashing(f"poll:{poll_id}", BEN) in {v.voter for v in votes}

    # Chat shows the pseudonym, in lists, history, minutes.
    listed = dialog.text(BEN, "!liste alle")
    assert "ehemaliges Mitglied 1" in listed
    shown = dialog.text(BEN, "!zeige 1")
    assert "ehemaliges Mitglied 1" in shown
    assert "Entwurf von ehemaliges Mitglied 1 liegt vor" in shown
    assert "ehemaliges Mitglied 1" in dialog.text(BEN, "!sitzung protokoll 1")
    # A pseudonym is no person to link to or notify: #1's reminder on its due day pings Ben.
    with db.session() as s:
        due = plan(s, dialog.now.replace(day=13, hour=9, minute=5), TimerEnv()).due
        replies = [d.reply for d in due if d.reply is not None and d.agreement_id is not None]
    assert replies
    for reply in replies:
        assert "matrix.to/#/ehemaliges" not in reply.rich.html
        assert reply.rich.mentions == (BEN,)
    # … and so do the exports.
    for fmt in ("md", "json"):
        text = exported(db, fmt, dialog.now)
        assert "ehemaliges Mitglied 1" in text
        assert ANNA not in text

    # A second person gets the next number; forgetting again finds nothing.
    with db.session() as s:
        assert erasure.erase(s, BEN, voter_hash=hashing).pseudonym == "ehemaliges Mitglied 2"
    with db.session() as s:
        again = erasure.erase(s, ANNA, voter_hash=hashing)
        assert again.total == 0, again.lines()
    assert "ehemaliges Mitglied 2" in dialog.text(CARLA, "!zeige 1")


def config_for(db: Database, tmp_path: Path) -> Config:
    return Config(
        homeserver="https://matrix.example.org",
        user_id="@gremienbot:example.org",
        password="x",  # type: ignore[arg-type]
        data_dir=tmp_path,
        database=DatabaseConfig(url=db.url),
        coordination=[ANNA],
    )


def test_the_command_shows_the_changes_and_asks_first(db: Database, tmp_path: Path) -> None:
    dialog = Dialog(db)
    committee(dialog)
    config = config_for(db, tmp_path)
    out = io.StringIO()
    assert run_forget(config, ANNA, yes=False, stdin=io.StringIO("n\n"), out=out) == 1
    shown = out.getvalue()
    assert "would be replaced by 'ehemaliges Mitglied 1'" in shown
    assert "agreement_owner.user_id: pseudonym: 2" in shown
    assert "Nothing was changed." in shown
    assert rows_mentioning(db, ANNA)

    out = io.StringIO()
    assert run_forget(config, ANNA, yes=False, stdin=io.StringIO("y\n"), out=out) == 0
    assert "is now 'ehemaliges Mitglied 1'" in out.getvalue()
    assert "#1 in !gremium:example.org" in out.getvalue()
    assert f"The config still names {ANNA} under coordination" in out.getvalue()
    assert rows_mentioning(db, ANNA) == []

    out = io.StringIO()
    assert run_forget(config, ANNA, yes=True, out=out) == 0
    assert "Nothing is stored about" in out.getvalue()
    assert run_forget(config, "anna", yes=True, out=out) == 2


def export_args(out: Path, user: str, **extra: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "format": "json",
        "room": None,
        "date_from": None,
        "date_to": None,
        "out": out,
        "user": user,
    }
    values.update(extra)
    return argparse.Namespace(**values)


def test_export_user_writes_everything_stored_about_the_person(
    db: Database, tmp_path: Path
) -> None:
    dialog = Dialog(db)
    committee(dialog)
    config = config_for(db, tmp_path)
    target = tmp_path / "anna.json"
    assert run_export(config, export_args(target, ANNA)) == 0
    data = json.loads(target.read_text("utf-8"))
    assert data["format"] == "gremienbot-subject-access"
    assert data["user_id"] == ANNA
    tables = data["tables"]
    for name in ("agreement", "agreement_owner", "agreement_history", "room_role", "reminder"):
        assert name in tables, sorted(tables)
    assert "meeting_attendee" in tables
    texts = [
        row[tables["agreement"]["columns"].index("text")] for row in tables["agreement"]["rows"]
    ]
    assert sorted(texts) == ["Bericht an Schulamt", "Protokoll"]
    # Answers are not in it (kept apart from the person by design); nor is anyone else.
    assert "poll_vote" not in tables
    assert "poll_vote" not in json.dumps(tables)
    owners = tables["agreement_owner"]["rows"]
    assert all(ANNA in row for row in owners)
    # Only JSON, and about everything.
    assert run_export(config, export_args(tmp_path / "x.csv", ANNA, format="csv")) == 2
    assert run_export(config, export_args(tmp_path / "y.json", ANNA, room="!r:x")) == 2
    assert run_export(config, export_args(tmp_path / "z.json", "anna")) == 2

    with db.session() as s:
        erasure.erase(s, ANNA, voter_hash=hashing)
    assert run_export(config, export_args(target, ANNA)) == 0
    assert json.loads(target.read_text("utf-8"))["tables"] == {}


@pytest.mark.parametrize("user", ["@anna:example.org.uk", "@anna:example.or", "@ann:example.org"])
def test_only_the_whole_user_id_is_replaced(user: str) -> None:
    pattern = erasure.id_pattern(ANNA)
    assert pattern.search(f"an {user} bitte") is None
    assert pattern.sub("X", f"an {ANNA}, {ANNA}. und ({ANNA})") == "an X, X. und (X)"


def test_the_command_line_takes_forget_and_export_user() -> None:
    from bot.cli import build_parser, cmd_forget

    args = build_parser().parse_args(
        ["forget", "-c", "c.yaml", "--yes", "--name", "Anna Schmidt", ANNA]
    )
    assert (args.func, args.user, args.yes, args.name) == (cmd_forget, ANNA, True, ["Anna Schmidt"])
    assert build_parser().parse_args(["forget", ANNA]).yes is False
    args = build_parser().parse_args(["export", "--format", "json", "--user", ANNA, "-o", "x"])
    assert args.user == ANNA
