"""`!einstellungen` / `!settings`: per-room settings, each declared once as a Setting.

Each feature declares its own settings on its router (`router.setting(Setting(...))`);
this module declares language and time zone and shows and changes them all. What they
hold is read with commands.core.room (`room_language`, `room_timezone`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.errors import CommandError, PermissionDenied
from commands.core.registry import Router, fold
from commands.core.rich import Rich
from commands.core.room import LANGUAGE_KEY, TIMEZONE_KEY
from commands.core.setting import Setting
from storage import rooms

router = Router()


def _parse_language(ctx: Context, value: str) -> str:
    lang = fold(value)
    aliases = {"deutsch": "de", "german": "de", "englisch": "en", "english": "en"}
    lang = aliases.get(lang, lang)
    if lang not in i18n.LANGUAGES:
        raise CommandError("settings.bad_language", value=value)
    return lang


def _show_language(ctx: Context, value: str | None) -> str:
    return i18n.plain(ctx.lang, f"settings.language_name.{value or ctx.lang}")


def _parse_timezone(ctx: Context, value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError("settings.bad_timezone", value=value) from None
    return value.strip()


def _show_timezone(ctx: Context, value: str | None) -> str:
    return value or str(ctx.tz)


LANGUAGE = router.setting(
    Setting(
        LANGUAGE_KEY, ("sprache", "language"), "settings.language", _parse_language, _show_language
    )
)
TIMEZONE = router.setting(
    Setting(
        TIMEZONE_KEY, ("zeitzone", "timezone"), "settings.timezone", _parse_timezone, _show_timezone
    )
)


def setting_word(setting: Setting, lang: str) -> str:
    """The word to type for a setting: its German name first, its English name last."""
    return setting.names[0 if lang == "de" else -1]


@router.command("einstellungen", aliases=("settings",))
def settings_command(ctx: Context, args: str) -> Rich:
    name, _, value = args.strip().partition(" ")
    if not name:
        stored = rooms.get_settings(ctx.db, ctx.room_id)
        lines = [i18n.t(ctx.lang, "settings.title")]
        word = command_word(ctx)
        lines.extend(
            i18n.t(
                ctx.lang,
                "settings.line_word",
                name=i18n.plain(ctx.lang, s.label_key),
                value=s.show(ctx, stored.get(s.key)),
                command=f"{ctx.prefix}{word} {setting_word(s, ctx.lang)}",
            )
            for s in ctx.registry.settings
        )
        lines.append(i18n.t(ctx.lang, "settings.footer", prefix=ctx.prefix))
        return Rich.join(lines)
    setting = ctx.registry.find_setting(name)
    if setting is None:
        names = ", ".join(setting_word(s, ctx.lang) for s in ctx.registry.settings)
        raise CommandError("settings.unknown", name=name, names=names)
    if ctx.role < Role.CHAIR:
        raise PermissionDenied("permission.needs_chair")
    if not value.strip():
        return i18n.t(
            ctx.lang,
            "settings.line",
            name=i18n.plain(ctx.lang, setting.label_key),
            value=setting.show(ctx, rooms.get_setting(ctx.db, ctx.room_id, setting.key)),
        )
    stored_value = setting.parse(ctx, value.strip())
    rooms.set_setting(ctx.db, ctx.room_id, setting.key, stored_value)
    # Answer in the new language when the language itself was changed.
    lang = stored_value if setting is LANGUAGE else ctx.lang
    shown = setting.show(ctx.with_(lang=lang), stored_value)
    return i18n.t(lang, "settings.changed", name=i18n.plain(lang, setting.label_key), value=shown)


def command_word(ctx: Context) -> str:
    """`!einstellungen` as typed in the room's language (help shows it the same way)."""
    return "settings" if ctx.lang == "en" else "einstellungen"
