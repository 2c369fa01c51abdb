"""Dates beyond any plan are refused on input, so nothing stored overflows the calendar."""

from __future__ import annotations

from tests.dialog import ANNA, CHAIR, Dialog


def test_a_due_date_ten_thousand_years_away_is_refused_and_nothing_is_stored(
    dialog: Dialog,
) -> None:
    for command in (
        "!verabredung Ewig bis 9999/12/31",
        "!verabredung Ewig bis ende 9999",
        "!verabredung Ewig bis 31.12.2100",
    ):
        answer = dialog.text(ANNA, command)
        assert "mehr als 10 Jahre in der Zukunft" in answer, answer
    assert "keine" in dialog.text(ANNA, "!liste alle").lower()


def test_a_due_date_within_ten_years_is_accepted(dialog: Dialog) -> None:
    assert "festgehalten" in dialog.text(ANNA, "!verabredung Schulentwicklungsplan bis 31.12.2030")


def test_moving_a_due_date_past_the_bound_is_refused(dialog: Dialog) -> None:
    dialog.text(ANNA, "!verabredung Bericht bis Freitag")
    assert "mehr als 10 Jahre" in dialog.text(ANNA, "!frist 1 1.1.2100")
    assert "Fr., 13. März 2026" in dialog.text(ANNA, "!zeige 1")


def test_a_snooze_of_decades_is_refused(dialog: Dialog) -> None:
    dialog.text(ANNA, "!verabredung Bericht bis Freitag")
    answer = dialog.text(ANNA, "!später 1 ende 2100")
    assert "mehr als 10 Jahre" in answer, answer
    assert "pausiert" not in answer


def test_in_english_the_bound_is_explained_in_english(dialog: Dialog) -> None:
    dialog.text(CHAIR, "!einstellungen sprache en")
    assert "more than 10 years ahead" in dialog.text(ANNA, "!agree Forever by 9999/12/31")
