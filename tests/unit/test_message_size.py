"""Every message the bot sends fits the homeserver's event size limit (64 KiB, encryption
included): a long one is split at line breaks into several, none is refused."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from bot.runtime.limits import CONTENT_BUDGET, split_rich
from commands.core.rich import Rich, mention, text, trusted
from storage.models import OutboxMessage
from tests.dialog import ANNA, BEN, BERLIN, Dialog
from tests.unit.reminder_helpers import add_agreement, env_for, fire

# What the homeserver refuses (the whole event, after encryption).
EVENT_LIMIT = 65_536


def _encrypted_size(content: dict[str, object]) -> int:
    """The event as an encrypted room carries it: the payload in base64, plus envelope."""
    payload = len(json.dumps({"type": "m.room.message", "content": content, "room_id": "!x"}))
    return payload * 4 // 3 + 2048


def test_a_short_text_stays_one_message() -> None:
    rich = text("Kurz")
    assert split_rich(rich) == [rich]


def test_a_long_text_is_split_between_lines_with_nothing_lost() -> None:
    lines = [text(f"Zeile {i}: " + "ä<&>" * 200) for i in range(200)]
    rich = Rich.join(lines)
    parts = split_rich(rich)
    assert len(parts) > 1
    assert "\n".join(p.plain for p in parts) == rich.plain
    assert "<br>".join(p.html for p in parts) == rich.html
    for part in parts:
        assert len(json.dumps(part.plain)) + len(json.dumps(part.html)) <= CONTENT_BUDGET


def test_each_part_mentions_only_the_people_it_names() -> None:
    filler = [text("x" * 3000) for _ in range(20)]
    rich = Rich.join([mention(ANNA, "Anna"), *filler, mention(BEN, "Ben")])
    parts = split_rich(rich)
    assert parts[0].mentions == (ANNA,)
    assert parts[-1].mentions == (BEN,)
    assert all(p.mentions == () for p in parts[1:-1])


def test_bold_running_across_a_cut_is_closed_and_reopened() -> None:
    rich = trusted("**Anfang\n" + "\n".join("x" * 1000 for _ in range(100)) + "\nEnde**")
    parts = split_rich(rich)
    assert len(parts) > 1
    for part in parts:
        assert part.html.count("<b>") == part.html.count("</b>")


def test_one_line_longer_than_any_message_is_cut_into_plain_pieces() -> None:
    rich = text("Ö" * 100_000)
    parts = split_rich(rich)
    assert "".join(p.plain for p in parts) == rich.plain
    assert all(len(json.dumps(p.plain)) + len(json.dumps(p.html)) <= CONTENT_BUDGET for p in parts)


def test_zeige_with_many_long_notes_goes_out_in_several_messages_that_all_fit(
    dialog: Dialog,
) -> None:
    dialog.text(ANNA, "!verabredung Haushaltsplan abstimmen bis Freitag")
    notes = [f"Notiz {i}: " + "Abstimmung mit der Kämmerei " * 70 for i in range(40)]
    for note in notes:
        assert "Notiz zu #1" in dialog.text(ANNA, f"!notiz 1 {note}")
    sent = dialog.say(ANNA, "!zeige 1")
    assert len(sent) > 1
    assert all(_encrypted_size(m.content) < EVENT_LIMIT for m in sent)
    whole = "\n".join(m.body for m in sent)
    # The newest entries in full (older ones are pointed at, as always in `!zeige`).
    assert all(note.strip() in whole for note in notes[-25:])
    assert "ältere Einträge" in whole
    # The first part answers the command and stands for the agreement (✅, replies).
    assert sent[0].in_reply_to == dialog.last_event_id
    assert sent[0].ref_kind == "agreement"
    assert all(m.in_reply_to is None and m.ref_kind is None for m in sent[1:])


def test_the_weekly_digest_of_a_room_with_300_open_agreements_fits(dialog: Dialog) -> None:
    for n in range(1, 301):
        add_agreement(
            dialog.database,
            number=n,
            text=f"Maßnahme {n}: " + "Bildungsmonitoring fortschreiben und abstimmen " * 8,
            due=dt.date(2026, 4, 1),
            owners=[ANNA, BEN],
        )
    monday_nine = dt.datetime(2026, 3, 16, 9, 0, tzinfo=BERLIN)
    fire(dialog.database, monday_nine, env_for(dialog))
    with dialog.database.session() as s:
        contents = [json.loads(r.content) for r in s.exec(select(OutboxMessage))]
    assert len(contents) > 1
    assert "Wochenüberblick" in contents[0]["body"]
    assert all(_encrypted_size(c) < EVENT_LIMIT for c in contents)
    whole = "\n".join(c["body"] for c in contents)
    assert all(f"Maßnahme {n}:" in whole for n in range(1, 301))
