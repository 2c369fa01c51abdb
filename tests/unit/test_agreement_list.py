"""Reading agreements: `!liste` with filters and pages, `!zeige N` with its history."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.dialog import ANNA, BEN, CARLA, CHAIR, Dialog


@pytest.fixture
def room(dialog: Dialog) -> Dialog:
    """#1 Ben due Fri 13 March, #2 Anna without date, #3 Anna+Ben due Wed 11 March,
    #4 Carla due Tue 10 March (done), #5 Ben due 20 March (cancelled)."""
    dialog.say(CHAIR, "!verabredung Entwurf an Schulamt @ben bis nächsten Freitag")
    dialog.say(ANNA, "!verabredung Raum buchen")
    dialog.say(CHAIR, "!verabredung Einladung schreiben @anna @ben bis übermorgen")
    dialog.say(CARLA, "!verabredung Protokoll verschicken bis morgen")
    dialog.say(CARLA, "!erledigt 4")
    dialog.say(CHAIR, "!verabredung Altes Thema @ben bis 20.03.")
    dialog.say(CHAIR, "!verwerfen 5")
    return dialog


def numbers(answer: str) -> list[str]:
    """The agreement numbers of a list, in the order shown."""
    return [line.split()[0] for line in answer.splitlines() if line.startswith("#")]


def test_list_shows_open_agreements_sorted_by_due_date_without_date_last(room: Dialog) -> None:
    answer = room.text(BEN, "!liste")
    assert answer.splitlines()[0] == "Offene Verabredungen (3)"
    assert numbers(answer) == ["#3", "#1", "#2"]
    assert "#3 Einladung schreiben – Anna Schmidt, Ben Okafor – Mi., 11.3." in answer
    assert "#2 Raum buchen – Anna Schmidt – ohne Frist" in answer


def test_list_names_people_without_notifying_them(room: Dialog) -> None:
    [reply] = room.say(BEN, "!liste alle")
    assert reply.mentions == ()
    assert "matrix.to" not in reply.html


def test_overdue_agreements_are_marked(room: Dialog) -> None:
    room.now += dt.timedelta(days=3)  # Thursday 12 March: #3 (Wednesday) is overdue
    answer = room.text(BEN, "!liste")
    assert "#3 Einladung schreiben – Anna Schmidt, Ben Okafor – Mi., 11.3. – ⚠️ überfällig" in (
        answer
    )
    assert "#1 Entwurf an Schulamt – Ben Okafor – Fr., 13.3.\n" in answer


@pytest.mark.parametrize("word", ["überfällig", "ueberfaellig", "UEBERFÄLLIG", "overdue"])
def test_overdue_filter(room: Dialog, word: str) -> None:
    room.now += dt.timedelta(days=3)
    answer = room.text(BEN, f"!liste {word}")
    assert numbers(answer) == ["#3"]
    assert "Überfällige Verabredungen (1)" in answer


def test_agreement_due_at_a_time_today_is_overdue_after_that_time(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Anrufen bis heute 11 Uhr")
    assert numbers(dialog.text(ANNA, "!liste überfällig")) == []
    dialog.now += dt.timedelta(hours=1)
    assert numbers(dialog.text(ANNA, "!liste überfällig")) == ["#1"]


@pytest.mark.parametrize(
    ("args", "sender", "expected", "title"),
    [
        ("meine", ANNA, ["#3", "#2"], "Meine offenen Verabredungen (2)"),
        ("mine", BEN, ["#3", "#1"], "Meine offenen Verabredungen (2)"),
        ("erledigt", BEN, ["#4"], "Erledigte Verabredungen (1)"),
        ("done", BEN, ["#4"], "Erledigte Verabredungen (1)"),
        ("verworfen", BEN, ["#5"], "Verworfene Verabredungen (1)"),
        ("alle", BEN, ["#4", "#3", "#1", "#5", "#2"], "Alle Verabredungen (5)"),
        ("offen", BEN, ["#3", "#1", "#2"], "Offene Verabredungen (3)"),
        ("@ben", ANNA, ["#3", "#1"], "Offene Verabredungen – verantwortlich: Ben Okafor (2)"),
        (
            "alle @ben",
            ANNA,
            ["#3", "#1", "#5"],
            "Alle Verabredungen – verantwortlich: Ben Okafor (3)",
        ),
        (
            "@carla erledigt",
            ANNA,
            ["#4"],
            "Erledigte Verabredungen – verantwortlich: Carla Weber (1)",
        ),
    ],
)
def test_list_filters(
    room: Dialog, args: str, sender: str, expected: list[str], title: str
) -> None:
    answer = room.text(sender, f"!liste {args}")
    assert numbers(answer) == expected
    assert answer.splitlines()[0] == title


def test_list_all_shows_the_status_of_closed_ones(room: Dialog) -> None:
    answer = room.text(BEN, "!liste alle")
    assert "#4 Protokoll verschicken – Carla Weber – Di., 10.3. – erledigt" in answer
    assert "#5 Altes Thema – Ben Okafor – Fr., 20.3. – verworfen" in answer


def test_list_with_an_element_pill_for_the_person(room: Dialog) -> None:
    html = '!liste <a href="https://matrix.to/#/@ben:example.org">Ben Okafor</a>'
    answer = room.text(ANNA, "!liste Ben Okafor", html=html, mentions=(BEN,))
    assert numbers(answer) == ["#3", "#1"]


def test_unknown_filter_says_which_exist(room: Dialog) -> None:
    answer = room.text(BEN, "!liste dringend")
    assert "„dringend“ kenne ich als Filter nicht" in answer
    assert "offen, meine, überfällig, erledigt, verworfen, alle oder eine Person" in answer


def test_page_far_beyond_the_end_is_answered_without_an_error(room: Dialog) -> None:
    assert "Seite 1000001 gibt es nicht" in room.text(BEN, "!liste " + "9" * 30)
    assert "Seite 999999 gibt es nicht" in room.text(BEN, "!liste alle 999999")


def test_mine_with_a_person_lists_that_persons(room: Dialog) -> None:
    answer = room.text(ANNA, "!liste meine @ben")
    assert answer.splitlines()[0] == "Offene Verabredungen – verantwortlich: Ben Okafor (2)"


def test_list_for_two_people_at_once_is_refused(room: Dialog) -> None:
    assert "höchstens eine Person" in room.text(BEN, "!liste @anna @ben")


def test_empty_list_says_so_and_how_to_record(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!liste")
    assert "Offene Verabredungen: keine." in answer
    assert "`!verabredung Entwurf an Schulamt @Anna bis Freitag`" in answer


def test_long_list_is_paged_and_says_how_many_more(dialog: Dialog) -> None:
    for i in range(1, 21):
        dialog.say(ANNA, f"!verabredung Aufgabe {i:02d} bis in {i} Tagen")
    first = dialog.text(ANNA, "!liste")
    assert first.splitlines()[0] == "Offene Verabredungen (20) – Seite 1 von 2"
    assert numbers(first) == [f"#{i}" for i in range(1, 16)]
    assert first.splitlines()[-1] == "… und 5 weitere: `!liste offen 2` zeigt die nächste Seite."
    second = dialog.text(ANNA, "!liste offen 2")
    assert second.splitlines()[0] == "Offene Verabredungen (20) – Seite 2 von 2"
    assert numbers(second) == [f"#{i}" for i in range(16, 21)]
    assert "weitere" not in second
    assert "Seite 3 gibt es nicht; die Liste hat 2 Seiten." in dialog.text(ANNA, "!liste 3")


def test_paged_list_of_one_person_keeps_the_filter_in_the_hint(dialog: Dialog) -> None:
    for i in range(16):
        dialog.say(ANNA, f"!verabredung Aufgabe {i} @ben")
    assert "`!liste offen @ben:example.org 2`" in dialog.text(ANNA, "!liste @ben")


def test_english_list(room: Dialog) -> None:
    room.say(CHAIR, "!settings language en")
    room.now += dt.timedelta(days=3)
    answer = room.text(BEN, "!list")
    assert answer.splitlines()[0] == "Open agreements (3)"
    assert "#3 Einladung schreiben – Anna Schmidt, Ben Okafor – Wed, 11 Mar – ⚠️ overdue" in (answer)
    assert "#2 Raum buchen – Anna Schmidt – no due date" in answer
    assert room.text(BEN, "!list mine").splitlines()[0] == "My open agreements (2)"


def test_very_long_text_is_shortened_visibly_in_the_list(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung " + "Wort " * 100)
    line = dialog.text(ANNA, "!liste").splitlines()[1]
    assert "…" in line
    assert len(line) < 200


# ------------------------------------------------------------------------------ !zeige


def test_show_gives_status_owners_due_date_and_the_whole_history(room: Dialog) -> None:
    room.say(BEN, "!frist 1 Freitag nächste Woche")
    room.say(BEN, "!notiz 1 Schulamt fragt nach")
    room.say(BEN, "!erledigt 1 verschickt")
    shown = room.text(ANNA, "!zeige 1").splitlines()
    assert shown[:6] == [
        "#1 Entwurf an Schulamt",
        "Status: erledigt (seit Mo., 9. März 2026)",
        "Verantwortlich: Ben Okafor",
        "Frist: Fr., 20. März 2026",
        "Festgehalten von Vorsitz Meyer am Mo., 9. März 2026",
        "Verlauf:",
    ]
    assert shown[6:] == [
        "• Mo., 9. März 2026, 10:15 Uhr – Vorsitz Meyer: festgehalten",
        "• Mo., 9. März 2026, 10:15 Uhr – Ben Okafor: "
        "Frist Fr., 13. März 2026 → Fr., 20. März 2026",
        "• Mo., 9. März 2026, 10:15 Uhr – Ben Okafor: Notiz – „Schulamt fragt nach“",
        "• Mo., 9. März 2026, 10:15 Uhr – Ben Okafor: als erledigt markiert – „verschickt“",
    ]


def test_show_marks_an_overdue_agreement(room: Dialog) -> None:
    room.now += dt.timedelta(days=3)
    assert "Status: offen – überfällig" in room.text(ANNA, "!zeige 3")


def test_show_of_a_long_history_says_how_many_entries_are_not_shown(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Viel Verlauf")
    for i in range(35):
        dialog.say(ANNA, f"!notiz 1 Stand {i}")
    shown = dialog.text(ANNA, "!zeige 1")
    assert "… und 6 ältere Einträge (nicht gezeigt)" in shown
    assert "Stand 34" in shown
    assert "„Stand 4“" not in shown


def test_show_carries_the_agreement_so_replies_act_on_it(room: Dialog) -> None:
    [reply] = room.say(ANNA, "!zeige 2")
    assert reply.ref_kind == "agreement"
    assert reply.ref_id is not None
    assert "#2 ist erledigt" in room.text(ANNA, "!erledigt", ref=(reply.ref_kind, reply.ref_id))


def test_show_escapes_html_in_history(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung <i>x</i>")
    dialog.say(ANNA, "!notiz 1 <img src=x onerror=alert(1)>")
    [reply] = dialog.say(ANNA, "!zeige 1")
    assert "<img" not in reply.html
    assert "<i>" not in reply.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in reply.html


def test_show_without_such_number(room: Dialog) -> None:
    assert "In diesem Raum gibt es keine Verabredung #9." in room.text(ANNA, "!zeige 9")


def test_counts_of_one_read_in_the_singular(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Ein Eintrag zu viel")
    for i in range(30):
        dialog.say(ANNA, f"!notiz 1 Stand {i}")
    assert "… und 1 älterer Eintrag (nicht gezeigt)" in dialog.text(ANNA, "!zeige 1")
    assert "die Liste hat nur eine Seite." in dialog.text(ANNA, "!liste 2")


def test_a_due_date_in_another_year_shows_its_year_in_the_list(dialog: Dialog) -> None:
    dialog.say(ANNA, "!verabredung Jahresbericht bis 15.1.2027")
    dialog.say(ANNA, "!verabredung Raum buchen bis 20.3.")
    listed = dialog.text(ANNA, "!liste")
    assert "#1 Jahresbericht – Anna Schmidt – Fr., 15.1.2027" in listed
    assert "#2 Raum buchen – Anna Schmidt – Fr., 20.3.\n" in listed + "\n"
    # Confirmations keep the long form.
    assert "Frist: Fr., 15. Januar 2027" in dialog.text(ANNA, "!zeige 1")
