"""`!geschäftsordnung` / `!rules`: the room's rules of procedure and who holds which role.

Clear roles and tasks, written down, are what makes a committee work. The chair or the
coordination sets the text in the chat (`!geschäftsordnung <text>`, line breaks kept);
every version is kept with who set it and when (`!geschäftsordnung verlauf`). The
operator may give rules from Markdown files in the config (`rules.files` per room,
`rules.default_file` for the others): they are shown until a text is set in the chat,
which then wins, since it is the committee's own newer decision.

Beside the text, the rules' numbers that the procedure's features apply (quorum, periods,
circulation, majority; commands.procedure): the config gives them per committee, the chair
or the coordination changes them part by part in the same words
(`!geschäftsordnung setze quorum mehr als die Hälfte | ladungsfrist 14 tage`), and names
the voting members (`!geschäftsordnung stimmberechtigt @a @b`; `… alle`: every member).
"""

from __future__ import annotations

import dataclasses
import re

from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.defaults import feature_settings
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.names import name_list
from commands.core.registry import Router, fold
from commands.core.rich import Rich, bold, text
from commands.core.room import chairs
from commands.desk.settings import RULES_TEXT_LIMIT, RulesSettings
from commands.desk.texts import short
from commands.parsing.dates import format_date, format_datetime
from commands.parsing.mentions import require_in_room, take_mentions
from commands.procedure import words
from commands.procedure.common import room_rules, voters
from commands.procedure.describe import rules_lines, unreadable_lines
from commands.procedure.rules import to_params
from storage import procedure as procedure_store
from storage import rules as store

router = Router("roles")

_HISTORY_WORDS = frozenset({"verlauf", "history", "historie"})
_SET_WORDS = frozenset({"setze", "setzen", "set"})
_VOTING_WORDS = frozenset({"stimmberechtigt", "stimmberechtigte", "voting", "voters"})
_ALL_WORDS = frozenset({"alle", "all", "everyone", "jeder", "jede"})
_RESET_WORDS = frozenset({"zurueck", "zuruecksetzen", "standard", "reset", "default"})
_FIRST_WORD = re.compile(r"(\S+)\s*(.*)", re.DOTALL)
HISTORY_SHOWN = 30

# Which line of the rules (describe.rules_lines, in its order) shows a changed field.
_LINE_OF = {
    words.QUORUM: 0,
    words.MAJORITY: 1,
    words.CHAIR_BREAKS_TIE: 1,
    words.INVITATION_DAYS: 2,
    words.CIRCULATION_DAYS: 3,
    words.CIRCULATION_PARTICIPATION: 3,
    words.AGENDA_CUTOFF_DAYS: 4,
    words.MINUTES_OBJECTION_DAYS: 5,
}


@router.command("geschäftsordnung", aliases=("rules",))
def rules(ctx: Context, args: str) -> Rich:
    wanted = args.strip()
    if not wanted:
        return _show(ctx)
    if fold(wanted) in _HISTORY_WORDS:
        return _history(ctx)
    first = _FIRST_WORD.fullmatch(wanted)
    head, rest = (fold(first[1]), first[2].strip()) if first else ("", "")
    if head in _SET_WORDS:
        return _set_numbers(ctx, rest)
    if head in _VOTING_WORDS:
        return _voting(ctx, rest)
    return _set(ctx, wanted)


def _command(ctx: Context, rest: str = "") -> Rich:
    return command_hint(ctx, "geschäftsordnung", "rules", *([rest] if rest else []))


def _set(ctx: Context, wanted: str) -> Rich:
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("rules.needs_chair")
    if not any(ch.isalnum() for ch in wanted):
        raise UsageError("rules.empty")
    if len(wanted) > RULES_TEXT_LIMIT:
        raise CommandError("rules.too_long", length=len(wanted), limit=RULES_TEXT_LIMIT)
    current = store.current(ctx.db, ctx.room_id)
    if current is not None and current.text == wanted:
        return i18n.t(ctx.lang, "rules.unchanged")
    store.set_text(
        ctx.db,
        ctx.room_id,
        wanted,
        set_by=ctx.sender,
        at=ctx.now,
        source_event_id=ctx.event_id,
    )
    version = len(store.history(ctx.db, ctx.room_id))
    return i18n.t(
        ctx.lang,
        "rules.saved",
        version=version,
        length=len(wanted),
        show=_command(ctx),
        history=_command(ctx, "verlauf" if ctx.lang == "de" else "history"),
    )


def _set_numbers(ctx: Context, wanted: str) -> Rich:
    """`setze quorum mehr als die Hälfte | ladungsfrist 14 tage`: only the parts named
    change; with any part unreadable, nothing does."""
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("procedure_rules.needs_chair")
    if not wanted:
        raise UsageError("procedure_rules.set_empty", example=_set_example(ctx))
    if fold(wanted) in _RESET_WORDS:
        if not procedure_store.clear_rules_params(ctx.db, ctx.room_id):
            return i18n.t(ctx.lang, "procedure_rules.reset_nothing")
        return i18n.t(ctx.lang, "procedure_rules.reset", show=_command(ctx))
    try:
        changes = words.parse_rules(wanted)
    except words.UnreadableRules as exc:
        raise CommandError(
            "procedure_rules.unreadable_intro",
            parts=Rich.join(unreadable_lines(ctx.lang, exc.problems)),
        ) from None
    if not changes:
        raise UsageError("procedure_rules.set_empty", example=_set_example(ctx))
    current = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    new = dataclasses.replace(current, **changes)
    stored = procedure_store.rules_params(ctx.db, ctx.room_id) or {}
    lines = rules_lines(ctx.lang, new)
    shown = [lines[i] for i in sorted({_LINE_OF[name] for name in changes})]
    if new == current and set(changes) <= set(stored):
        return Rich.join([i18n.t(ctx.lang, "procedure_rules.unchanged"), *shown])
    params = to_params(new)
    stored.update({name: params[name] for name in changes})
    procedure_store.set_rules_params(ctx.db, ctx.room_id, stored, by=ctx.sender, at=ctx.now)
    return Rich.join([i18n.t(ctx.lang, "procedure_rules.saved", show=_command(ctx)), *shown])


def _set_example(ctx: Context) -> Rich:
    return _command(ctx, i18n.plain(ctx.lang, "procedure_rules.set_example"))


def _voting(ctx: Context, wanted: str) -> Rich:
    """`stimmberechtigt @a @b`: the voting members; `… alle`: every member again; no
    names: who votes now."""
    if not wanted:
        return _voters_line(ctx)
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("procedure_rules.needs_chair")
    if fold(wanted) in _ALL_WORDS:
        procedure_store.set_voting_members(ctx.db, ctx.room_id, [], by=ctx.sender, at=ctx.now)
        return i18n.t(ctx.lang, "procedure_rules.voting_all_saved", who=_voters_line(ctx))
    found = take_mentions(ctx, wanted)
    left = found.text.strip(" ,;.")
    if left or not found.user_ids:
        raise UsageError(
            "procedure_rules.voting_unreadable",
            left=left or wanted,
            example=_command(ctx, i18n.plain(ctx.lang, "procedure_rules.voting_example")),
        )
    if ctx.bot_user is not None and ctx.bot_user in found.user_ids:
        raise CommandError("procedure_rules.voting_not_bot")
    require_in_room(ctx, found.user_ids)
    procedure_store.set_voting_members(
        ctx.db, ctx.room_id, found.user_ids, by=ctx.sender, at=ctx.now
    )
    return i18n.t(ctx.lang, "procedure_rules.voting_saved", who=_voters_line(ctx))


def _voters_line(ctx: Context) -> Rich:
    """ "Stimmberechtigt: Anna, Ben" or "… alle Mitglieder des Raums (5)"."""
    named = procedure_store.voting_members(ctx.db, ctx.room_id)
    if named:
        return i18n.t(
            ctx.lang,
            "procedure_rules.voting_named",
            count=len(named),
            names=name_list(named, ctx.members),
        )
    if ctx.members is None:
        return i18n.t(ctx.lang, "procedure_rules.voting_everyone_unknown")
    everyone = voters(ctx.db, ctx.room_id, ctx.members, ctx.bot_user)
    return i18n.t(ctx.lang, "procedure_rules.voting_everyone", count=len(everyone))


def _numbers(ctx: Context) -> list[Rich]:
    """The rules' numbers in plain words, where they come from, and who votes."""
    lines = [bold(i18n.plain(ctx.lang, "procedure_rules.title"))]
    row = procedure_store.rules_row(ctx.db, ctx.room_id)
    if row is not None:
        lines.append(
            i18n.t(
                ctx.lang,
                "procedure_rules.set_by",
                name=ctx.display_name(row.set_by),
                when=format_date(row.set_at.astimezone(ctx.tz).date(), ctx.lang),
            )
        )
    rules_now = room_rules(ctx.db, ctx.room_id, ctx.defaults)
    lines.extend(rules_lines(ctx.lang, rules_now))
    lines.append(_voters_line(ctx))
    lines.append(
        i18n.t(
            ctx.lang,
            "procedure_rules.how_to_set",
            set=_command(ctx, i18n.plain(ctx.lang, "procedure_rules.set_short")),
            voting=_command(ctx, i18n.plain(ctx.lang, "procedure_rules.voting_example")),
        )
    )
    return lines


def _show(ctx: Context) -> Rich:
    settings = feature_settings(ctx.defaults, "rules", RulesSettings())
    current = store.current(ctx.db, ctx.room_id)
    lines = [bold(i18n.plain(ctx.lang, "rules.title"))]
    if current is not None:
        lines.append(
            i18n.t(
                ctx.lang,
                "rules.set_by",
                name=ctx.display_name(current.set_by),
                when=format_datetime(current.set_at.astimezone(ctx.tz), ctx.lang),
            )
        )
        lines.append(text(current.text))
    else:
        from_file = settings.by_room.get(ctx.room_id, settings.default)
        if from_file is not None:
            lines.append(i18n.t(ctx.lang, "rules.from_file"))
            lines.append(text(from_file))
        else:
            lines.append(i18n.t(ctx.lang, "rules.none", cmd=_command(ctx, "<text>")))
    lines.append(Rich("", ""))
    lines.extend(_numbers(ctx))
    lines.append(Rich("", ""))
    lines.extend(_roles(ctx))
    return Rich.join(lines)


def _roles(ctx: Context) -> list[Rich]:
    nobody = i18n.plain(ctx.lang, "rolle.nobody")
    chair = chairs(ctx.db, ctx.room_id, power_levels=ctx.power_levels, members=ctx.members)
    coordination = sorted(ctx.coordinators)

    def names(user_ids: list[str]) -> str:
        return name_list(user_ids, ctx.members) if user_ids else nobody

    return [
        bold(i18n.plain(ctx.lang, "rolle.list_title")),
        i18n.t(ctx.lang, "rolle.list_chair", names=names(chair)),
        i18n.t(ctx.lang, "rolle.list_coordination", names=names(coordination)),
        i18n.t(ctx.lang, "rolle.list_members"),
    ]


def _history(ctx: Context) -> Rich:
    versions = store.history(ctx.db, ctx.room_id)
    lines = [bold(i18n.plain(ctx.lang, "rules.history_title"))]
    if not versions:
        lines.append(i18n.t(ctx.lang, "rules.history_none"))
        return Rich.join(lines)
    numbered = list(enumerate(versions, start=1))
    for number, v in reversed(numbered[-HISTORY_SHOWN:]):
        lines.append(
            i18n.t(
                ctx.lang,
                "rules.history_line",
                version=number,
                when=format_datetime(v.set_at.astimezone(ctx.tz), ctx.lang),
                name=ctx.display_name(v.set_by),
                length=len(v.text),
                start=text(short(v.text, 60)),
            )
        )
    if len(versions) > HISTORY_SHOWN:
        lines.append(i18n.t(ctx.lang, "rules.history_more", count=len(versions) - HISTORY_SHOWN))
    return Rich.join(lines)
