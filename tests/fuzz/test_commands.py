"""Every command of the registry, with hostile arguments, through the bot's own handling
(tests/dialog.py): never an exception, never "interner Fehler", nothing stored before
damaged, member text never markup in a reply's HTML.

The message reaches the command layer as bot.runtime.events.on_text passes it on: with
control characters removed (text_input.clean). Pills, m.mentions of strangers and
replies to the bot's messages are part of the input.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from commands.agreements.common import TEXT_LIMIT
from commands.core import i18n
from commands.core.text_input import clean
from storage.db import Database
from storage.models import Agreement, AgreementOwner
from tests.dialog import ANNA, BEN, CARLA, CHAIR, COORDINATOR, REGISTRY, Dialog
from tests.fuzz import COMMAND_EXAMPLES
from tests.fuzz.strategies import args, piece

# The internal error's text up to its reference code (a new code for each failure).
INTERNAL = tuple(i18n.raw(lang, "error.internal").partition("{code}")[0] for lang in i18n.LANGUAGES)
# Markup a member may type that must come back escaped.
INJECTED = ("<script", "<img", "<i data-fuzz", '<a href="javascript')
NAMES = [cmd.name for cmd in REGISTRY.commands]
mentions = st.lists(
    st.sampled_from([ANNA, BEN, CHAIR, "@nobody:evil.example", "@x:s1", "@ANNA:example.org"]),
    max_size=4,
).map(tuple)
html_extra = st.one_of(
    st.none(),
    st.lists(
        st.one_of(
            piece,
            st.sampled_from(
                [
                    '<a href="https://matrix.to/#/@anna:example.org">Anna</a>',
                    '<a href="https://matrix.to/#/@nobody:evil.example">N</a>',
                    "<i data-fuzz>x</i>",
                ]
            ),
        ),
        max_size=6,
    ).map("".join),
)


# The only markup the bot writes: bold, code, line breaks and pills.
TAGS = {"b", "code", "br", "a"}
_TAG = re.compile(r"<(/?)([^\s/>]*)([^>]*)>")


def only_own_markup(html: str) -> bool:
    for m in _TAG.finditer(html):
        if m[2].lower() not in TAGS:
            return False
        if m[2] == "a" and not m[1] and not m[3].startswith(' href="https://matrix.to/#/@'):
            return False
    return "<" not in _TAG.sub("", html)


def stored(db: Database) -> list[tuple[object, ...]]:
    with db.session() as s:
        agreements = s.exec(select(Agreement).order_by(col(Agreement.id))).all()
        owners = s.exec(select(AgreementOwner).order_by(col(AgreementOwner.user_id))).all()
        return [(a.id, a.number, a.text, a.status, a.due_date, a.due_time) for a in agreements] + [
            (o.agreement_id, o.user_id) for o in owners
        ]


def _first_two(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [row for row in rows if row[0] in (1, 2)]


@pytest.fixture
def room(dialog: Dialog) -> tuple[Dialog, list[tuple[object, ...]]]:
    """A room with two agreements, a poll and a reminder recorded before the fuzzing."""
    dialog.say(ANNA, "!verabredung Bericht an Schulamt @ben bis Freitag")
    dialog.say(BEN, "!verabredung Raum buchen")
    dialog.say(ANNA, "!umfrage Termin? | Montag | Dienstag")
    dialog.say(ANNA, "!erinnere morgen 9 Uhr Unterlagen")
    return dialog, stored(dialog.database)


@pytest.mark.parametrize("name", NAMES)
def test_command_with_hostile_arguments(
    room: tuple[Dialog, list[tuple[object, ...]]], name: str
) -> None:
    dialog, _before = room

    @settings(max_examples=COMMAND_EXAMPLES)
    @given(
        st.sampled_from([CARLA, CHAIR, COORDINATOR]),
        args,
        mentions,
        html_extra,
        st.booleans(),
    )
    def run(
        sender: str, text: str, mentioned: tuple[str, ...], html: str | None, reply: bool
    ) -> None:
        prior = stored(dialog.database)
        body = clean(f"!{name} {text}")
        markup = None if html is None else clean(f"!{name} {html}")
        reply_to = dialog.event_about("agreement", 1) if reply else None
        sent = dialog.say(sender, body, mentions=mentioned, html=markup, reply_to=reply_to)
        for message in sent:
            assert not message.body.startswith(INTERNAL), (name, text)
            assert not any(i in message.html for i in INJECTED), (name, text, message.html)
            assert only_own_markup(message.html), (name, text, message.html)
        now = stored(dialog.database)
        # Carla is a member without rights on the two agreements recorded first.
        if sender == CARLA:
            assert _first_two(now) == _first_two(prior), (name, text)
        for row in now:
            if len(row) == 6:
                assert isinstance(row[2], str)
                assert clean(row[2]) == row[2]
                assert 0 < len(row[2]) <= TEXT_LIMIT

    run()
