"""Plural fields in catalogue templates: "1 Stimme", "2 Stimmen", "Noch keine Stimme".

`{name|one|other}` and `{name|zero|one|other}` (commands/core/rich.py `plural`) pick the
form that agrees with the count in placeholder `name`; `#` stands for the number as the
code gave it. The forms are trusted catalogue text, the number is not.
"""

from __future__ import annotations

import pytest

from commands.core.rich import Rich, bold, plural, template

TWO_FORMS = "{count|# Antwort|# Antworten}"
THREE_FORMS = "{voters|Noch keine Stimme|# Stimme|# Stimmen}"


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 Antworten"), (1, "1 Antwort"), (2, "2 Antworten"), ("20.000", "20.000 Antworten")],
)
def test_a_two_form_field_takes_the_singular_for_exactly_one(
    count: int | str, expected: str
) -> None:
    assert template(TWO_FORMS, {"count": count}).plain == expected


@pytest.mark.parametrize(
    ("voters", "expected"),
    [
        (0, "Noch keine Stimme"),
        (1, "1 Stimme"),
        (2, "2 Stimmen"),
        ("20.000", "20.000 Stimmen"),
    ],
)
def test_a_three_form_field_says_zero_in_words(voters: int | str, expected: str) -> None:
    assert template(THREE_FORMS, {"voters": voters}).plain == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "no open agreements"),
        (1, "1 open agreement"),
        (2, "2 open agreements"),
        ("20.000", "20.000 open agreements"),
    ],
)
def test_english_takes_the_same_forms(count: int | str, expected: str) -> None:
    tpl = "{count|no open agreements|# open agreement|# open agreements}"
    assert template(tpl, {"count": count}).plain == expected


def test_a_count_written_out_as_digits_is_read_as_its_number() -> None:
    """The code may pass a count already formatted ("1", "20.000"): it still agrees."""
    assert template(TWO_FORMS, {"count": "1"}).plain == "1 Antwort"
    assert template(TWO_FORMS, {"count": "1.000"}).plain == "1.000 Antworten"
    assert template(TWO_FORMS, {"count": Rich("1", "<b>1</b>")}).plain == "1 Antwort"


def test_the_verb_agrees_with_the_first_count_of_a_share() -> None:
    tpl = "{answered} von {invited|# Mitglied|# Mitgliedern} {answered|hat|haben} teilgenommen"
    assert template(tpl, {"answered": 1, "invited": 5}).plain == (
        "1 von 5 Mitgliedern hat teilgenommen"
    )
    assert template(tpl, {"answered": 3, "invited": 1}).plain == (
        "3 von 1 Mitglied haben teilgenommen"
    )
    assert template(tpl, {"answered": 0, "invited": 5}).plain == (
        "0 von 5 Mitgliedern haben teilgenommen"
    )


def test_a_form_may_leave_the_number_out() -> None:
    assert template(
        "Sie haben {count|eine Aussage|# Aussagen} beantwortet.", {"count": 1}
    ).plain == ("Sie haben eine Aussage beantwortet.")


def test_plural_returns_template_text_with_the_placeholder_for_the_number() -> None:
    assert plural("n", "# Tag|# Tage", 1) == "{n} Tag"
    assert plural("n", "heute|# Tag|# Tage", 0) == "heute"
    assert plural("n", "# Tag|# Tage", "20.000") == "{n} Tage"


def test_markup_inside_a_form_is_rendered_and_the_number_is_escaped() -> None:
    tpl = "{count|**eine** Stimme|**#** Stimmen}"
    one = template(tpl, {"count": 1})
    assert (one.plain, one.html) == ("eine Stimme", "<b>eine</b> Stimme")
    many = template(tpl, {"count": 3})
    assert (many.plain, many.html) == ("3 Stimmen", "<b>3</b> Stimmen")


@pytest.mark.parametrize("hostile", ["**2**", "<b>2</b>", "`2`", "<script>1</script>"])
def test_a_value_inside_a_plural_form_stays_text(hostile: str) -> None:
    """What the code passes as the number is escaped like any value: no markup, no HTML."""
    rendered = template("{count|# Stimme|# Stimmen} – {count|eine|mehrere}", {"count": hostile})
    assert rendered.plain == f"{hostile} Stimmen – mehrere"
    assert "<b>" not in rendered.html
    assert "<script>" not in rendered.html
    assert "<code>" not in rendered.html


def test_user_text_beside_a_plural_field_is_not_read_as_one() -> None:
    """A member's text that looks like a plural field or holds `#` stays as typed."""
    rendered = template(
        "„{text}“: {count|# Stimme|# Stimmen}",
        {"text": "{count|a|b} # **fett** <b>", "count": 1},
    )
    assert rendered.plain == "„{count|a|b} # **fett** <b>“: 1 Stimme"
    assert "&lt;b&gt;" in rendered.html
    assert "<b>" not in rendered.html


def test_a_rich_value_keeps_its_own_markup_in_a_form() -> None:
    rendered = template("{count|# Stimme|# Stimmen}", {"count": bold("2")})
    assert (rendered.plain, rendered.html) == ("2 Stimmen", "<b>2</b> Stimmen")


def test_doubled_braces_are_a_literal_not_a_plural_field() -> None:
    assert template("{{count|a|b}}", {}).plain == "{count|a|b}"


@pytest.mark.parametrize("field", ["{count|Stimmen}", "{count|a|b|c|d}", "{count|a|b|c|d|e}"])
def test_a_field_with_one_or_more_than_three_forms_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="2 or 3 forms"):
        template(field, {"count": 1})


@pytest.mark.parametrize("forms", ["Stimmen", "a|b|c|d"])
def test_plural_itself_refuses_a_wrong_number_of_forms(forms: str) -> None:
    with pytest.raises(ValueError, match="2 or 3 forms"):
        plural("count", forms, 1)


def test_a_plural_field_without_its_count_fails_loudly() -> None:
    with pytest.raises(KeyError):
        template(TWO_FORMS, {"total": 1})
