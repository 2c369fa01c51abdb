"""`!geschäftsordnung` / `!rules`: the room's rules of procedure and who holds which role.

Clear roles and tasks, written down, are what makes a committee work. The chair or the
coordination sets the text in the chat (`!geschäftsordnung <text>`, line breaks kept);
every version is kept with who set it and when (`!geschäftsordnung verlauf`). The
operator may give rules from Markdown files in the config (`rules.files` per room,
`rules.default_file` for the others): they are shown until a text is set in the chat,
which then wins, since it is the committee's own newer decision.
"""

from __future__ import annotations

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
from commands.parsing.dates import format_datetime
from storage import rules as store

router = Router("roles")

_HISTORY_WORDS = frozenset({"verlauf", "history", "historie"})
HISTORY_SHOWN = 30


@router.command("geschäftsordnung", aliases=("rules",))
def rules(ctx: Context, args: str) -> Rich:
    wanted = args.strip()
    if not wanted:
        return _show(ctx)
    if fold(wanted) in _HISTORY_WORDS:
        return _history(ctx)
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
