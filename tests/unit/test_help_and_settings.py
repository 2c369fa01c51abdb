"""Dialog tests of the foundation commands: help, settings, unknown commands."""

from __future__ import annotations

from tests.dialog import ANNA, CHAIR, Dialog


def test_help_lists_commands_in_german_by_default(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe")
    assert "Gremienbot – Hilfe" in answer
    assert "`!hilfe` – Hilfe anzeigen" in answer
    assert "`!einstellungen` – Einstellungen des Raums anzeigen oder ändern" in answer


def test_help_explains_one_command_with_its_other_names(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilfe einstellungen")
    assert "`!einstellungen` · `!einstellungen erinnerungszeit 8:30`" in answer
    assert "!settings" in answer


def test_english_alias_and_ascii_umlauts_reach_the_same_command(dialog: Dialog) -> None:
    assert dialog.text(ANNA, "!HELP") == dialog.text(ANNA, "!hilfe")


def test_unknown_command_is_answered_with_a_suggestion(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!hilf")
    assert "!hilf" in answer
    assert "Meinten Sie `!hilfe`" in answer


def test_unknown_command_without_similar_name_points_to_help(dialog: Dialog) -> None:
    answer = dialog.text(ANNA, "!xyzzy")
    assert "kenne ich nicht" in answer
    assert "!hilfe" in answer


def test_text_without_prefix_is_no_command(dialog: Dialog) -> None:
    assert dialog.say(ANNA, "hilfe bitte") == []
    assert dialog.say(ANNA, "! hilfe") == []


def test_member_may_read_but_not_change_settings(dialog: Dialog) -> None:
    assert "Sprache: Deutsch" in dialog.text(ANNA, "!einstellungen")
    refused = dialog.text(ANNA, "!einstellungen sprache en")
    assert "Vorsitz" in refused
    assert "Sprache: Deutsch" in dialog.text(ANNA, "!einstellungen")


def test_chair_switches_room_to_english_and_help_follows(dialog: Dialog) -> None:
    assert "Language is now English" in dialog.text(CHAIR, "!einstellungen sprache englisch")
    assert "Gremienbot – help" in dialog.text(ANNA, "!help")
    assert "Language: English" in dialog.text(ANNA, "!settings")


def test_bad_setting_value_is_refused_and_nothing_changes(dialog: Dialog) -> None:
    answer = dialog.text(CHAIR, "!einstellungen zeitzone Mond/Krater")
    assert "Mond/Krater" in answer
    assert "Europe/Berlin" in answer
    assert "Zeitzone: Europe/Berlin" in dialog.text(ANNA, "!einstellungen")


def test_user_text_is_escaped_in_html(dialog: Dialog) -> None:
    [reply] = dialog.say(ANNA, "!einstellungen <script>alert(1)</script> x")
    assert "<script>" not in reply.html
    assert "&lt;script&gt;" in reply.html
    assert "<script>" in reply.body
