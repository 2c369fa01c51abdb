"""`!export` in a committee room: the coordination gets the file by direct message."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlmodel import func, select

from commands.agreements.offices import OfficesSettings
from commands.core import i18n
from commands.core.defaults import Defaults
from storage.db import Database
from storage.models import Agreement, OutboxMessage
from tests.dialog import ANNA, BEN, CHAIR, COORDINATOR, ROOM, Dialog, Sent
from tests.export_data import Uploads, keep_uploads


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> Uploads:
    return keep_uploads(monkeypatch)


@pytest.fixture
def room(dialog: Dialog, uploads: Uploads) -> Dialog:
    """A committee room with two agreements, one done."""
    dialog.say(ANNA, "!verabredung Entwurf Bildungsbericht an Schulämter @ben bis 20.3.")
    dialog.say(BEN, "!verabredung Raum für Fachtag buchen")
    dialog.say(BEN, "!erledigt 2")
    dialog.uploads = uploads  # type: ignore[attr-defined]
    return dialog


def file_of(dialog: Dialog, sent: Sent) -> tuple[str, str, bytes]:
    """What the bot uploaded for this file message: name, type, bytes."""
    uploads: Uploads = dialog.uploads  # type: ignore[attr-defined]
    return uploads[sent.event_id]


def agreements(db: Database) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(Agreement)).one()


def test_coordinator_gets_the_xlsx_by_direct_message_and_the_room_is_told(room: Dialog) -> None:
    sent = room.say(COORDINATOR, "!export")
    assert len(sent) == 2
    file_msg, notice = sent
    assert file_msg.room_id is None  # for the coordinator's direct-message room
    assert file_msg.content["msgtype"] == "m.file"
    name, mimetype, data = file_of(room, file_msg)
    assert name == "gremienbot-gremium-example-org.xlsx"
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Verabredungen"]
    texts = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert texts == ["Entwurf Bildungsbericht an Schulämter", "Raum für Fachtag buchen"]
    assert notice.room_id == ROOM
    assert "gremienbot-gremium-example-org.xlsx" in notice.body
    assert "Sie finden ihn in Ihrer Direktnachricht mit mir." in notice.body
    with room.database.session() as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.event_id == file_msg.event_id))
        assert row.one().to_user == COORDINATOR


@pytest.mark.parametrize(
    ("command", "filename", "mimetype"),
    [
        ("!export csv", "gremienbot-gremium-example-org.zip", "application/zip"),
        ("!export json", "gremienbot-gremium-example-org.json", "application/json"),
        ("!export ics", "gremienbot-gremium-example-org.ics", "text/calendar"),
        ("!export outlook", "gremienbot-gremium-example-org-termine.ics", "text/calendar"),
        ("!export md 2026", "gremienbot-gremium-example-org-2026.md", "text/markdown"),
        ("!export Excel März", "gremienbot-gremium-example-org-2026-03.xlsx", ""),
        ("!export csv Januar bis März alle", "gremienbot-alle-2026-01-01_2026-03-31.zip", ""),
        (
            "!export 01.01.2026–31.03.2026",
            "gremienbot-gremium-example-org-2026-01-01_2026-03-31.xlsx",
            "",
        ),
        ("!export letztes Jahr", "gremienbot-gremium-example-org-2025.xlsx", ""),
    ],
)
def test_format_and_period_name_the_file(
    room: Dialog, command: str, filename: str, mimetype: str
) -> None:
    file_msg, _notice = room.say(COORDINATOR, command)
    name, kind, data = file_of(room, file_msg)
    assert name == filename
    if mimetype:
        assert kind == mimetype
    assert data


def test_the_json_export_of_a_room_holds_its_sections_as_data_not_the_database(
    room: Dialog,
) -> None:
    file_msg, _ = room.say(COORDINATOR, "!export json März")
    name, _, raw = file_of(room, file_msg)
    assert name.endswith("-2026-03.json")
    data = json.loads(raw)
    assert data["format"] == "gremienbot-export"
    assert data["rooms"] == [ROOM]
    assert data["period"] == {"first": "2026-03-01", "last": "2026-03-31"}
    assert "tables" not in data
    agreements = next(s for s in data["sections"] if s["name"] == "agreements")
    keys = [c["key"] for c in agreements["columns"]]
    rows = [dict(zip(keys, row, strict=True)) for row in agreements["rows"]]
    assert [(r["number"], r["state"]) for r in rows] == [(1, "open"), (2, "done")]
    assert rows[0]["due_date"] == "2026-03-20"
    assert rows[1]["closed_at"] == "2026-03-09T10:15:00+01:00"


@pytest.mark.parametrize("sender", [ANNA, CHAIR])
def test_a_member_or_chair_is_refused_and_told_who_may(room: Dialog, sender: str) -> None:
    [answer] = room.say(sender, "!export")
    assert answer.body == i18n.plain("de", "permission.needs_coordination", command="!export")


def test_refusal_in_english_rooms_is_english(room: Dialog) -> None:
    room.say(CHAIR, "!einstellungen sprache en")
    [answer] = room.say(BEN, "!export csv")
    assert answer.body == i18n.plain("en", "permission.needs_coordination", command="!export csv")
    assert "coordinating office" in answer.body


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!export pdf", "„pdf“ ist weder ein Format (`xlsx`, `csv`, `json`, `ics`, `ics-events`,"),
        ("!export xlsx nächsten Sommer", "Den Zeitraum „nächsten Sommer“ verstehe ich nicht."),
        ("!export 31.03.2026 bis 01.01.2026", "endet, bevor er beginnt"),
        ("!export csv Dezember bis Januar", "endet, bevor er beginnt"),
        ("!export json 01.01.1999-31.12.2026", "muss zwischen 2000 und 2036 liegen"),
        ("!export 2037", "Der Zeitraum „2037“ geht nicht"),
        ("!export 30.02.2026", "Den Zeitraum „30.02.2026“ verstehe ich nicht."),
    ],
)
def test_bad_format_or_period_gets_a_clear_answer_and_no_file(
    room: Dialog, command: str, expected: str
) -> None:
    before = agreements(room.database)
    [answer] = room.say(COORDINATOR, command)
    assert expected in answer.body
    assert answer.content["msgtype"] == "m.notice"
    assert not room.uploads  # type: ignore[attr-defined]
    assert agreements(room.database) == before


def test_english_period_words_work_in_english_rooms(room: Dialog) -> None:
    room.say(CHAIR, "!settings language en")
    file_msg, notice = room.say(COORDINATOR, "!export xlsx January to March all")
    name, _, data = file_of(room, file_msg)
    assert name == "gremienbot-alle-2026-01-01_2026-03-31.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == [
        "Agreements",
        "History",
        "Meetings",
        "Polls",
        "Decisions",
    ]
    assert "direct messages" in notice.body


def test_the_chat_export_names_the_offices_of_the_config_and_of_amt(
    dialog: Dialog, uploads: Uploads
) -> None:
    # Ben's office comes from the config only; Anna's from her own `!amt`.
    dialog.defaults = Defaults(
        features={"offices": OfficesSettings(by_user={BEN: "Amt 40 – Schulverwaltung"})}
    )
    dialog.uploads = uploads  # type: ignore[attr-defined]
    dialog.say(ANNA, "!amt Jugendamt")
    dialog.say(CHAIR, "!verabredung Zahlen melden @ben bis 20.3.", mentions=(BEN,))
    dialog.say(CHAIR, "!verabredung Fachtag planen @anna", mentions=(ANNA,))
    file_msg, _notice = dialog.say(COORDINATOR, "!export")
    _name, _mimetype, data = file_of(dialog, file_msg)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Verabredungen"]
    header = [cell.value for cell in sheet[1]]
    offices = {
        row[2]: row[header.index("Amt")] for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert offices == {"Zahlen melden": "Amt 40 – Schulverwaltung", "Fachtag planen": "Jugendamt"}
