"""`!hilfe` / `!help`: reads the command declarations, so help never drifts from dispatch."""

from __future__ import annotations

from commands.core import i18n
from commands.core.context import Context
from commands.core.registry import Router, fold
from commands.core.rich import Rich, trusted

router = Router()


@router.command("hilfe", aliases=("help",))
def show_help(ctx: Context, args: str) -> Rich:
    reg = ctx.registry
    lang = ctx.lang
    name = args.strip().lstrip(ctx.prefix).split(" ")[0] if args.strip() else ""
    if name:
        cmd = reg.find(name)
        if cmd is None:
            return i18n.t(lang, "help.unknown", name=name, prefix=ctx.prefix)
        key = f"cmd.{cmd.name}.help"
        text = i18n.raw(lang, key) if i18n.has(lang, key) else cmd.summary(lang)
        # The long help is a trusted catalogue text: render its markup, don't escape it.
        parts = [
            i18n.t(lang, "help.detail", usage=cmd.usage(lang, ctx.prefix), text="") + trusted(text)
        ]
        others = [ctx.prefix + n for n in cmd.names if fold(n) != fold(cmd.display_name(lang))]
        if others:
            parts.append(i18n.t(lang, "help.aliases", names=", ".join(others)))
        # The same text as docs/permissions.md (commands/permissions.py writes it).
        parts.append(i18n.t(lang, "help.who", who=trusted(cmd.who(lang))))
        return Rich.join(parts)

    lines: list[Rich] = [i18n.t(lang, "help.title")]
    for group in reg.groups:  # the order of commands.features
        cmds = [c for c in reg.commands if c.group == group and not c.hidden]
        if not cmds:
            continue
        lines.append(trusted("\n**" + i18n.raw(lang, f"help.group.{group}") + "**"))
        lines.extend(
            i18n.t(lang, "help.line", usage=c.usage(lang, ctx.prefix), summary=c.summary(lang))
            for c in cmds
        )
    lines.append(trusted("\n") + i18n.t(lang, "help.footer", prefix=ctx.prefix))
    return Rich.join(lines)
