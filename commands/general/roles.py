"""`!rolle` / `!role`: show this room's roles, or make someone chair (Vorsitz).

Chair is whoever has power level 50 or more in the room, or was made chair with
`!rolle @person vorsitz` (stored in room_role, read by commands.core.room.effective_role).
Coordination comes from the bot's configuration only; the chat cannot grant it.
"""

from __future__ import annotations

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.names import name_list
from commands.core.registry import Router, fold
from commands.core.rich import Rich, bold, mention
from commands.core.room import CHAIR_POWER_LEVEL, chairs
from commands.parsing.mentions import require_in_room, take_mentions
from storage import rooms

router = Router("roles")

_ROLE_WORDS = {
    "vorsitz": Role.CHAIR,
    "vorsitzende": Role.CHAIR,
    "vorsitzender": Role.CHAIR,
    "chair": Role.CHAIR,
    "koordination": Role.COORDINATION,
    "coordination": Role.COORDINATION,
    "coordinator": Role.COORDINATION,
    "mitglied": Role.MEMBER,
    "member": Role.MEMBER,
}


@router.command("rolle", aliases=("role",))
def role(ctx: Context, args: str) -> Rich:
    if not args.strip():
        return _overview(ctx)
    found = take_mentions(ctx, args)
    if not found.user_ids:
        raise UsageError("rolle.who")
    if len(found.user_ids) > 1:
        raise CommandError("rolle.one_person")
    person = found.user_ids[0]
    words = found.text.split()
    if not words:
        return i18n.t(
            ctx.lang, "rolle.show_one", name=ctx.display_name(person), role=_role_name(ctx, person)
        )
    wanted = _ROLE_WORDS.get(fold(" ".join(words)))
    if wanted is None:
        raise UsageError("rolle.unknown_role", value=" ".join(words))
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("rolle.needs_chair")
    if wanted == Role.COORDINATION:
        raise CommandError("rolle.coordination_by_config")
    require_in_room(ctx, [person])
    stored = rooms.room_role(ctx.db, ctx.room_id, person)
    pill = mention(person, ctx.display_name(person))
    if wanted == Role.CHAIR:
        if stored == rooms.CHAIR_ROLE:
            return i18n.t(
                ctx.lang, "rolle.unchanged", name=pill, role=i18n.plain(ctx.lang, "rolle.chair")
            )
        rooms.set_room_role(
            ctx.db, ctx.room_id, person, rooms.CHAIR_ROLE, set_by=ctx.sender, at=ctx.now
        )
        return i18n.t(ctx.lang, "rolle.set_chair", name=pill)
    level = ctx.power_levels.get(person, 0)
    if stored != rooms.CHAIR_ROLE and level < CHAIR_POWER_LEVEL:
        return i18n.t(
            ctx.lang, "rolle.unchanged", name=pill, role=i18n.plain(ctx.lang, "rolle.member")
        )
    rooms.set_room_role(
        ctx.db, ctx.room_id, person, rooms.MEMBER_ROLE, set_by=ctx.sender, at=ctx.now
    )
    lines = [i18n.t(ctx.lang, "rolle.set_member", name=pill)]
    if level >= CHAIR_POWER_LEVEL:
        lines.append(
            i18n.t(
                ctx.lang,
                "rolle.still_chair_by_power",
                name=ctx.display_name(person),
                level=level,
            )
        )
    if person in ctx.coordinators:
        lines.append(i18n.t(ctx.lang, "rolle.coordinator_stays", name=ctx.display_name(person)))
    return Rich.join(lines)


def _names(ctx: Context, user_ids: list[str]) -> str:
    """People by name, without notifying them."""
    return name_list(user_ids, ctx.members)


def _chairs(ctx: Context) -> list[str]:
    return chairs(ctx.db, ctx.room_id, power_levels=ctx.power_levels, members=ctx.members)


def _role_name(ctx: Context, user_id: str) -> str:
    if user_id in ctx.coordinators:
        return i18n.plain(ctx.lang, "role.coordination")
    if user_id in _chairs(ctx):
        return i18n.plain(ctx.lang, "rolle.chair")
    return i18n.plain(ctx.lang, "rolle.member")


def _overview(ctx: Context) -> Rich:
    nobody = i18n.plain(ctx.lang, "rolle.nobody")
    coordinators = sorted(ctx.coordinators)
    chairs = _chairs(ctx)
    return Rich.join(
        [
            bold(i18n.plain(ctx.lang, "rolle.list_title")),
            i18n.t(
                ctx.lang,
                "rolle.list_coordination",
                names=_names(ctx, coordinators) if coordinators else nobody,
            ),
            i18n.t(ctx.lang, "rolle.list_chair", names=_names(ctx, chairs) if chairs else nobody),
            i18n.t(ctx.lang, "rolle.list_members"),
        ]
    )
