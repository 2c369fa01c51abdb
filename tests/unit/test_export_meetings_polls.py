"""Meetings with their minutes and the polls' results in the exports: counts only, and
none below three answers or of a pulse that still runs."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl

from commands.exports.run import FORMATS, export, make_scope
from tests.dialog import ANNA, BEN, BERLIN, CARLA, CHAIR, Dialog


def xlsx(dialog: Dialog) -> openpyxl.Workbook:
    scope = make_scope(room_ids=None, period=None, lang="de", tz=BERLIN, now=dialog.now)
    out = io.BytesIO()
    with dialog.database.session() as s:
        export(s, FORMATS["xlsx"], scope, out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def test_the_meeting_its_minutes_and_the_poll_results_are_exported_without_any_voter(
    dialog: Dialog,
) -> None:
    dialog.say(CHAIR, "!sitzung start Frühjahrssitzung")
    pulse, _ = dialog.say(CHAIR, "!puls")
    for who, value in ((ANNA, "4"), (BEN, "5"), (CARLA, "3")):
        dialog.answer_poll(who, pulse.event_id, (value,))
    dialog.say(CHAIR, "!schließen 1")
    dialog.say(ANNA, "!umfrage Termin? | Mo | Di")
    dialog.say(BEN, "!stimme 2 Di")  # one answer: never broken down
    dialog.say(CHAIR, "!puls")  # still running: no distribution
    dialog.now += dt.timedelta(minutes=45)
    dialog.say(CHAIR, "!sitzung ende")

    wb = xlsx(dialog)
    [meeting] = list(wb["Sitzungen"].iter_rows(min_row=2, values_only=True))
    assert meeting[1] == 1
    assert meeting[2] == "Frühjahrssitzung"
    assert isinstance(meeting[3], dt.datetime)
    assert "Ergebnisprotokoll – Sitzung #1" in str(meeting[5])
    assert "Umfragen (3):" in str(meeting[5])

    polls = list(wb["Umfragen"].iter_rows(min_row=2, values_only=True))
    assert [(p[1], p[2], p[6]) for p in polls] == [
        (1, "Puls", 3),
        (2, "Umfrage", 1),
        (3, "Puls", 0),
    ]
    assert polls[0][7] == (
        "1 – gar nicht zufrieden: 0; 2 – wenig zufrieden: 0; 3 – teils, teils: 1; "
        "4 – zufrieden: 1; 5 – sehr zufrieden: 1"
    )
    assert polls[0][8] == "4,0"
    assert polls[1][7] is None
    assert polls[2][7] is None
    everything = json.dumps([list(r) for r in polls], default=str)
    for user in (ANNA, BEN, CARLA, "Anna", "Ben", "Carla"):
        assert user not in everything
