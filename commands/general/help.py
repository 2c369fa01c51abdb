"""`!hilfe` / `!help`: reads the command declarations, so help never drifts from dispatch."""

from __future__ import annotations

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.registry import Command, Router, fold
from commands.core.rich import Rich, code, trusted
from commands.general.guide import HelpConfig, guide_rich, help_settings, link
from commands.general.settings import command_word, setting_word
from storage import rooms

router = Router()
router.config_section("help", HelpConfig)


# The five commands a member needs first, in the order "Das Wichtigste" shows them.
ESSENTIALS = ("verabredung", "liste", "erledigt", "erinnere", "puls")
# `!hilfe alle` / `!help all`: every command, also those for the chair or coordination.
_ALL = frozenset({"alle", "all"})
# `!hilfe anleitung` / `!help guide`: the member guide (commands/general/guide.py).
_GUIDE = frozenset({"anleitung", "kurzanleitung", "guide"})


@router.command("hilfe", aliases=("help",))
def show_help(ctx: Context, args: str) -> Rich:
    reg = ctx.registry
    lang = ctx.lang
    name = args.strip().lstrip(ctx.prefix).split(" ")[0] if args.strip() else ""
    if name and fold(name) in _ALL:
        return _overview(ctx, everything=True)
    if name and fold(name) in _GUIDE:
        return _guide(ctx)
    if not name:
        return _overview(ctx, everything=False)
    cmd = reg.find(name)
    if cmd is None:
        return _unknown(ctx, name)
    key = f"cmd.{cmd.name}.help"
    text = i18n.raw(lang, key) if i18n.has(lang, key) else cmd.summary(lang)
    shown = code(ctx.prefix + cmd.display_name(lang))
    # The long help is a trusted catalogue text: render its markup, don't escape it.
    parts = [
        i18n.t(lang, "help.detail", name=shown, summary=cmd.summary(lang), text="") + trusted(text)
    ]
    if cmd.name == "einstellungen":
        parts.append(_settings_explained(ctx))
    parts.append(i18n.t(lang, "help.examples", usage=cmd.usage_rich(lang, ctx.prefix)))
    others = [ctx.prefix + n for n in cmd.names if fold(n) != fold(cmd.display_name(lang))]
    if others:
        parts.append(i18n.t(lang, "help.aliases", names=", ".join(others)))
    # The same text as docs/permissions.md (commands/permissions.py writes it).
    parts.append(i18n.t(lang, "help.who", who=trusted(cmd.who(lang))))
    return Rich.join(parts)


def _overview(ctx: Context, *, everything: bool) -> Rich:
    """ "Das Wichtigste" first, then the other commands by topic: only those the person may
    use (the declared role), unless `everything`, which marks the restricted ones."""
    reg = ctx.registry
    lang, prefix = ctx.lang, ctx.prefix
    lines: list[Rich] = []
    if everything:
        lines.append(i18n.t(lang, "help.title_all"))
    else:
        lines.append(i18n.t(lang, "help.title"))
        lines.append(i18n.t(lang, "help.intro"))
        lines.append(trusted("\n") + i18n.t(lang, "help.essentials"))
        lines.extend(
            i18n.t(lang, f"help.essential.{n}", prefix=prefix)
            for n in ESSENTIALS
            if reg.find(n) is not None
        )
    hidden = 0
    for group in reg.groups:  # the order of commands.features
        cmds = []
        for c in reg.commands:
            if c.group != group or c.hidden:
                continue
            if not everything and (c.name in ESSENTIALS):
                continue
            if not everything and ctx.role < c.role:
                hidden += 1
                continue
            cmds.append(c)
        if not cmds:
            continue
        lines.append(trusted("\n**" + i18n.raw(lang, f"help.group.{group}") + "**"))
        lines.extend(_line(ctx, c, marked=everything) for c in cmds)
    lines.append(
        trusted("\n")
        + i18n.t(lang, "help.footer_all" if everything else "help.footer", prefix=prefix)
    )
    if hidden:
        lines.append(i18n.t(lang, "help.more", hidden=hidden, prefix=prefix))
    lines.append(_guide_pointer(ctx))
    return Rich.join(lines)


def _guide_pointer(ctx: Context) -> Rich:
    """The help ends with where the member guide is: the municipality's link if the
    config gives one (`help.guide_url`), else the command that shows it here."""
    url = help_settings(ctx.defaults).guide_url
    if url:
        return i18n.t(ctx.lang, "help.guide_link", url=link(url))
    return i18n.t(ctx.lang, "help.guide_hint", prefix=ctx.prefix)


def _guide(ctx: Context) -> Rich:
    """The member guide's text, and the link to the published one if there is one."""
    guide = guide_rich(ctx.lang)
    url = help_settings(ctx.defaults).guide_url
    if not url:
        return guide
    return Rich.join([guide, trusted(""), i18n.t(ctx.lang, "help.guide_link", url=link(url))])


def _line(ctx: Context, cmd: Command, *, marked: bool) -> Rich:
    usage = cmd.usage_rich(ctx.lang, ctx.prefix, first_only=True)
    summary = cmd.summary(ctx.lang)
    if marked and cmd.role > Role.MEMBER:
        role = i18n.raw(ctx.lang, f"help.role.{cmd.role.name.lower()}")
        return i18n.t(ctx.lang, "help.line_role", usage=usage, summary=summary, role=role)
    return i18n.t(ctx.lang, "help.line", usage=usage, summary=summary)


def _unknown(ctx: Context, name: str) -> Rich:
    """No such command: suggest the nearest name, as an unknown command does."""
    suggestion = ctx.registry.suggest(name)
    if suggestion:
        cmd = ctx.registry.find(suggestion)
        assert cmd is not None
        hint = ctx.prefix + ("help " if ctx.lang == "en" else "hilfe ") + cmd.display_name(ctx.lang)
        return i18n.t(
            ctx.lang, "help.unknown_suggest", name=name, suggestion=hint, prefix=ctx.prefix
        )
    return i18n.t(ctx.lang, "help.unknown", name=name, prefix=ctx.prefix)


def _settings_explained(ctx: Context) -> Rich:
    """Every room setting: what it is now and an example of changing it (finding 5.4)."""
    stored = rooms.get_settings(ctx.db, ctx.room_id)
    lines = [trusted("\n") + i18n.t(ctx.lang, "help.settings_title")]
    for setting in ctx.registry.settings:
        key = f"settings.example.{setting.key}"
        if i18n.has(ctx.lang, key):
            example = code(i18n.plain(ctx.lang, key, prefix=ctx.prefix))
        else:  # a setting without an example still shows the word to type
            example = code(f"{ctx.prefix}{command_word(ctx)} {setting_word(setting, ctx.lang)}")
        lines.append(
            i18n.t(
                ctx.lang,
                "help.setting_line",
                name=i18n.plain(ctx.lang, setting.label_key),
                value=setting.show(ctx, stored.get(setting.key)),
                example=example,
            )
        )
    return Rich.join(lines)
