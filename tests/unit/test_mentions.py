"""Owners as real clients send them: Element pills, m.mentions, typed @anna and @anna:server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from commands.core.context import Context
from commands.core.defaults import Defaults
from commands.core.errors import CommandError
from commands.parsing.mentions import pills, require_in_room, take_mentions
from tests.dialog import ANNA, BEN, BERLIN, CARLA, REGISTRY, ROOM

BOT = "@gremienbot:example.org"
MEMBERS = {
    ANNA: "Anna Schmidt",
    BEN: "Ben",
    CARLA: "Carla Weber",
    BOT: "gremienbot",
}


def ctx(**kw: Any) -> Context:
    base = Context(
        room_id=ROOM,
        sender=ANNA,
        event_id="$event",
        now=dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN),
        db=None,  # type: ignore[arg-type]  # mention parsing never touches the database
        registry=REGISTRY,
        lang="de",
        tz=BERLIN,
        defaults=Defaults(),
        server_name="example.org",
        members=MEMBERS,
    )
    return base.with_(**kw)


def a(user_id: str, label: str) -> str:
    """An Element pill, as in formatted_body."""
    return f'<a href="https://matrix.to/#/{user_id}">{label}</a>'


def test_element_pill_names_the_owner_and_its_label_leaves_the_text() -> None:
    html = f"!verabredung Entwurf an Schulamt {a(ANNA, 'Anna Schmidt')} bis Freitag"
    found = take_mentions(
        ctx(html_body=html, mentions=(ANNA,)), "Entwurf an Schulamt Anna Schmidt bis Freitag"
    )
    assert found.user_ids == (ANNA,)
    assert found.text == "Entwurf an Schulamt bis Freitag"


def test_two_pills_joined_by_und_leave_no_debris() -> None:
    html = f"!verabredung Bericht {a(ANNA, 'Anna Schmidt')} und {a(BEN, 'Ben')}, bis Freitag"
    found = take_mentions(ctx(html_body=html), "Bericht Anna Schmidt und Ben, bis Freitag")
    assert found.user_ids == (ANNA, BEN)
    assert found.text == "Bericht, bis Freitag"


def test_m_mentions_without_html_find_the_display_name_in_the_body() -> None:
    found = take_mentions(ctx(mentions=(CARLA,)), "Raum buchen Carla Weber bis Freitag")
    assert found.user_ids == (CARLA,)
    assert found.text == "Raum buchen bis Freitag"


def test_typed_localpart_means_someone_on_the_bots_server() -> None:
    found = take_mentions(ctx(), "Raum buchen @ben bis Freitag")
    assert found.user_ids == (BEN,)
    assert found.text == "Raum buchen bis Freitag"


def test_typed_full_user_id_with_a_full_stop_after_it() -> None:
    found = take_mentions(ctx(), "Protokoll schreibt @carla:example.org.")
    assert found.user_ids == (CARLA,)
    assert found.text == "Protokoll schreibt."


def test_typed_id_on_another_server_is_kept_as_written() -> None:
    found = take_mentions(ctx(members=None), "Abstimmen mit @dora:kreis.example")
    assert found.user_ids == ("@dora:kreis.example",)


def test_owners_keep_the_order_they_were_named_in() -> None:
    html = f"!verabredung Termin {a(BEN, 'Ben')} @carla {a(ANNA, 'Anna Schmidt')}"
    found = take_mentions(ctx(html_body=html), "Termin Ben @carla Anna Schmidt")
    assert found.user_ids == (BEN, CARLA, ANNA)
    assert found.text == "Termin"


def test_pill_label_also_used_as_a_word_earlier_removes_only_the_pill() -> None:
    html = f"!verabredung Ben fragt Schulamt {a(BEN, 'Ben')} bis Freitag"
    found = take_mentions(ctx(html_body=html), "Ben fragt Schulamt Ben bis Freitag")
    assert found.user_ids == (BEN,)
    assert found.text == "Ben fragt Schulamt bis Freitag"


def test_label_inside_a_longer_word_is_not_cut() -> None:
    html = f"!verabredung Benachrichtigung an Schulen {a(BEN, 'Ben')}"
    found = take_mentions(ctx(html_body=html), "Benachrichtigung an Schulen Ben")
    assert found.text == "Benachrichtigung an Schulen"


def test_reply_names_the_replied_to_sender_in_m_mentions_but_that_is_no_owner() -> None:
    found = take_mentions(ctx(mentions=(BOT,), reply_to="$confirmation"), "nächsten Freitag")
    assert found.user_ids == ()
    assert found.text == "nächsten Freitag"


def test_pills_in_the_quoted_reply_are_ignored() -> None:
    html = (
        f"<mx-reply><blockquote>{a(BOT, 'gremienbot')} Verabredung #1</blockquote></mx-reply>"
        f"!zuweisen {a(CARLA, 'Carla Weber')}"
    )
    found = take_mentions(ctx(html_body=html, mentions=(BOT, CARLA)), "Carla Weber")
    assert found.user_ids == (CARLA,)


def test_mention_the_text_does_not_show_still_counts_outside_a_reply() -> None:
    found = take_mentions(ctx(mentions=(BEN,)), "Raum buchen")
    assert found.user_ids == (BEN,)
    assert found.text == "Raum buchen"


def test_url_encoded_pill_is_understood() -> None:
    html = '!verabredung X <a href="https://matrix.to/#/%40carla%3Aexample.org">Carla Weber</a>'
    found = take_mentions(ctx(html_body=html), "X Carla Weber")
    assert found.user_ids == (CARLA,)
    assert found.text == "X"


def test_client_that_writes_the_user_id_in_the_body_under_a_pill() -> None:
    html = f"!verabredung X {a(CARLA, 'Carla Weber')}"
    found = take_mentions(ctx(html_body=html), "X @carla:example.org")
    assert found.user_ids == (CARLA,)
    assert found.text == "X"


def test_at_name_typed_without_picking_the_pill_finds_the_one_member_so_called() -> None:
    members = {"@a.schmidt:example.org": "Anna Schmidt", BEN: "Ben"}
    found = take_mentions(ctx(members=members), "Bericht @Anna")
    assert found.user_ids == ("@a.schmidt:example.org",)


def test_at_name_that_fits_two_members_is_asked_back() -> None:
    members = {"@a.schmidt:example.org": "Anna Schmidt", "@a.meyer:example.org": "Anna Meyer"}
    with pytest.raises(CommandError) as refused:
        take_mentions(ctx(members=members), "Bericht @Anna")
    assert refused.value.key == "mention.ambiguous"


def test_email_address_is_no_mention() -> None:
    found = take_mentions(ctx(), "Mail an info@schulamt.example schicken")
    assert found.user_ids == ()
    assert found.text == "Mail an info@schulamt.example schicken"


def test_at_in_a_web_address_is_no_mention() -> None:
    found = take_mentions(ctx(), "Beitrag auf https://social.example/@schulamt teilen")
    assert found.user_ids == ()


def test_dangling_fuer_before_the_owner_goes_with_the_name() -> None:
    found = take_mentions(ctx(), "Raum buchen für @ben bis Freitag")
    assert found.text == "Raum buchen bis Freitag"


def test_name_with_colon_at_the_start() -> None:
    found = take_mentions(ctx(), "@ben: Protokoll schreiben")
    assert found.user_ids == (BEN,)
    assert found.text == "Protokoll schreiben"


def test_text_without_names_is_left_exactly_as_written() -> None:
    found = take_mentions(ctx(), "<b>Budget</b>  **klären** ?")
    assert found.text == "<b>Budget</b>  **klären** ?"


def test_pills_parser_skips_the_reply_quote_and_counts_offsets() -> None:
    found, text = pills(f"<mx-reply>x {a(BOT, 'bot')}</mx-reply>ab {a(BEN, 'Ben')}<br>c")
    assert [(p.user_id, p.label, p.offset) for p in found] == [(BEN, "Ben", 3)]
    assert text == "ab Ben\nc"


def test_people_outside_the_room_are_refused_by_id() -> None:
    with pytest.raises(CommandError) as refused:
        require_in_room(ctx(), [ANNA, "@fremd:example.org"])
    assert refused.value.key == "mention.not_in_room_one"
    assert refused.value.values["names"] == "@fremd:example.org"


def test_without_a_member_list_everyone_is_accepted() -> None:
    require_in_room(ctx(members=None), ["@fremd:example.org"])
