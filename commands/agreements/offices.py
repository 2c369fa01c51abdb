"""`!amt` / `!office`: the office (Amt, Fachbereich) a member works for, and the config's
`offices:` map. The leadership report names offices, never people.

A member sets their own (`!amt Jugendamt`), the chair and the coordination anyone's
(`!amt @anna Amt 40 – Schulverwaltung`); `!amt löschen` removes it. What is set in the
chat wins over the config's map, which the operator keeps for those who never set one.
Other features read a member's office with `storage.offices.offices_of(db, users,
configured_offices(ctx.defaults))`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, model_validator

from commands.agreements.common import date_text, user_text
from commands.core import i18n
from commands.core.config_section import BuildContext, ConfigSection
from commands.core.context import Context, Role, command_hint
from commands.core.defaults import Defaults, feature_settings
from commands.core.errors import CommandError, PermissionDenied
from commands.core.matrix_ids import check_user_id
from commands.core.registry import Router, fold
from commands.core.rich import Rich
from commands.core.text_input import clean, one_line_text
from commands.parsing.mentions import require_in_room, take_mentions
from storage import offices as store
from storage.offices import OFFICE_LIMIT

router = Router()

_CLEAR_WORDS = frozenset({"loeschen", "entfernen", "clear", "remove", "delete"})


# ---------------------------------------------------------------------------- the config


@dataclass(frozen=True)
class OfficesSettings:
    # Matrix user ID -> office, as the config names them.
    by_user: Mapping[str, str] = field(default_factory=dict)


def configured_offices(defaults: Defaults) -> Mapping[str, str]:
    """The config's `offices:` map (user ID -> office); empty when there is none."""
    return feature_settings(defaults, "offices", OfficesSettings()).by_user


def office_text(value: str) -> str:
    """An office as stored and shown: cleaned (storage.text), on one line, spaces single."""
    return " ".join(clean(value).split())


class OfficesConfig(ConfigSection):
    """The section is the map itself (`"@anna:stadt.de": "Amt 40 – Schulverwaltung"`): its
    keys are user IDs, so they are the model's extra fields, each checked here."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _map(cls, data: Any) -> dict[str, str]:
        if data is None:  # `offices:` with every entry commented out
            return {}
        if not isinstance(data, dict):
            raise ValueError(
                "expected a map of user IDs to offices, "
                "e.g. '@anna:example.org': 'Amt 40 – Schulverwaltung'"
            )
        checked: dict[str, str] = {}
        for user_id, office in data.items():
            if not isinstance(user_id, str):
                raise ValueError(
                    f"{user_id!r} is no Matrix user ID, expected e.g. @name:example.org"
                )
            check_user_id(user_id)
            if not isinstance(office, str):
                raise ValueError(f"{user_id}: the office must be a text, e.g. 'Jugendamt'")
            shown = office_text(office)
            if not 1 <= len(shown) <= OFFICE_LIMIT:
                raise ValueError(
                    f"{user_id}: the office must have 1 to {OFFICE_LIMIT} characters "
                    f"(has {len(shown)})"
                )
            checked[user_id] = shown
        return checked

    def build(self, context: BuildContext) -> OfficesSettings:
        return OfficesSettings(by_user=dict(self.model_extra or {}))


router.config_section("offices", OfficesConfig)


# ---------------------------------------------------------------------------- the command


@router.command("amt", aliases=("office",))
def office(ctx: Context, args: str) -> Rich:
    wanted = args.strip()
    if not wanted:
        return _show(ctx, ctx.sender)
    found = take_mentions(ctx, wanted)
    if len(found.user_ids) > 1:
        raise CommandError("office.one_person")
    person = found.user_ids[0] if found.user_ids else ctx.sender
    rest = found.text.strip()
    if not rest:
        return _show(ctx, person)
    if person != ctx.sender and ctx.role < Role.CHAIR:
        raise PermissionDenied("office.needs_chair", cmd=_command(ctx, "Jugendamt"))
    if fold(rest) in _CLEAR_WORDS:
        return _clear(ctx, person)
    return _set(ctx, person, rest)


def _command(ctx: Context, rest: str = "") -> Rich:
    return command_hint(ctx, "amt", "office", *([rest] if rest else []))


def _key(ctx: Context, person: str, what: str) -> str:
    """The text about the sender's own office ("Ihr Amt …") or someone else's."""
    return f"office.{what}_own" if person == ctx.sender else f"office.{what}_other"


def _show(ctx: Context, person: str) -> Rich:
    stored = store.stored_office(ctx.db, person)
    configured = configured_offices(ctx.defaults).get(person)
    name = ctx.display_name(person)
    if stored is not None:
        lines = [
            i18n.t(
                ctx.lang,
                _key(ctx, person, "shown"),
                office=user_text(stored.office),
                name=name,
            ),
            i18n.t(
                ctx.lang,
                "office.set_by",
                by=ctx.display_name(stored.set_by),
                date=date_text(ctx, stored.set_at),
            ),
        ]
        if configured is not None and configured != stored.office:
            lines.append(i18n.t(ctx.lang, "office.instead_of_config", office=user_text(configured)))
        return Rich.join(lines)
    if configured is not None:
        return Rich.join(
            [
                i18n.t(
                    ctx.lang, _key(ctx, person, "shown"), office=user_text(configured), name=name
                ),
                i18n.t(ctx.lang, "office.from_config", cmd=_command(ctx, "Jugendamt")),
            ]
        )
    return i18n.t(ctx.lang, _key(ctx, person, "none"), cmd=_command(ctx, "Jugendamt"), name=name)


def _checked(ctx: Context, value: str) -> str:
    return one_line_text(value, OFFICE_LIMIT, "office", _command(ctx, "Jugendamt"))


def _set(ctx: Context, person: str, value: str) -> Rich:
    shown = _checked(ctx, value)
    if person != ctx.sender:
        require_in_room(ctx, [person])
    name = ctx.display_name(person)
    if not store.set_office(ctx.db, person, shown, by=ctx.sender, at=ctx.now):
        return i18n.t(ctx.lang, _key(ctx, person, "unchanged"), office=user_text(shown), name=name)
    lines = [i18n.t(ctx.lang, _key(ctx, person, "saved"), office=user_text(shown), name=name)]
    configured = configured_offices(ctx.defaults).get(person)
    if configured is not None and configured != shown:
        lines.append(i18n.t(ctx.lang, "office.instead_of_config", office=user_text(configured)))
    return Rich.join(lines)


def _clear(ctx: Context, person: str) -> Rich:
    name = ctx.display_name(person)
    configured = configured_offices(ctx.defaults).get(person)
    if not store.clear_office(ctx.db, person):
        lines = [i18n.t(ctx.lang, _key(ctx, person, "nothing_to_clear"), name=name)]
    else:
        lines = [i18n.t(ctx.lang, _key(ctx, person, "cleared"), name=name)]
    if configured is not None:
        lines.append(i18n.t(ctx.lang, "office.config_stays", office=user_text(configured)))
    return Rich.join(lines)
