"""Command declarations and dispatch.

A command is declared once, beside its handler, with a Router (one per module, as in
aiogram): its German name, its other names (English, ASCII spellings are derived), the
role it needs. Usage line, summary and long help come from the catalogue under
`cmd.<name>.*`, so `!hilfe` and error answers read the same declaration as dispatch does.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from commands.core import i18n
from commands.core.context import Context, Role
from commands.core.effects import Reply
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.rich import Rich

log = logging.getLogger(__name__)

HandlerResult = Reply | Rich | Sequence[Reply | Rich]
Handler = Callable[[Context, str], HandlerResult]

_COMMAND = re.compile(r"([^\W\d_][\w-]*)(?:\s+(.*))?$", re.DOTALL)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(word: str) -> str:
    """Case- and umlaut-insensitive key: `Ändern`, `ändern` and `aendern` are one name."""
    return word.strip().lower().translate(_FOLD)


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    role: Role
    handler: Handler
    group: str
    hidden: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def usage(self, lang: str, prefix: str = "!") -> str:
        return prefix + i18n.raw(lang, f"cmd.{self.name}.usage")

    def summary(self, lang: str) -> str:
        return i18n.raw(lang, f"cmd.{self.name}.summary")

    def display_name(self, lang: str) -> str:
        """The name shown in help: German name, or the first English alias in English."""
        if lang == "en" and self.aliases:
            return self.aliases[0]
        return self.name


class Router:
    """The commands of one module."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.commands: list[Command] = []

    def command(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        role: Role = Role.MEMBER,
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands.append(Command(name, tuple(aliases), role, handler, self.group, hidden))
            return handler

        return register


class Registry:
    def __init__(self, routers: Iterable[Router]) -> None:
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}
        for router in routers:
            for cmd in router.commands:
                self.commands.append(cmd)
                for n in cmd.names:
                    key = fold(n)
                    if key in self._by_name:
                        raise ValueError(f"command name {n!r} declared twice")
                    self._by_name[key] = cmd

    def find(self, name: str) -> Command | None:
        return self._by_name.get(fold(name))

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(fold(name), list(self._by_name), n=1, cutoff=0.6)
        return close[0] if close else None

    def parse(self, body: str, prefix: str) -> tuple[str, str] | None:
        """Split '!name args' into (name, args); None when the text is no command."""
        stripped = body.strip()
        if not stripped.startswith(prefix):
            return None
        match = _COMMAND.match(stripped[len(prefix) :])
        if match is None:
            return None
        head, args = match.group(1), (match.group(2) or "").strip()
        return head, args

    def dispatch(self, ctx: Context, body: str) -> list[Reply] | None:
        """Run the command in `body`; None when it is no command at all.

        Any failure rolls back what the handler wrote, so bad input never leaves
        anything half-stored, and is answered in the room's language.
        """
        parsed = self.parse(body, ctx.prefix)
        if parsed is None:
            return None
        name, args = parsed
        cmd = self.find(name)
        if cmd is None:
            return [self._unknown(ctx, name)]
        # A savepoint, so a failing handler undoes only its own writes.
        savepoint = ctx.db.begin_nested()
        try:
            if ctx.role < cmd.role:
                raise PermissionDenied(f"permission.needs_{cmd.role.name.lower()}")
            replies = self._normalise(ctx, cmd.handler(ctx, args))
            savepoint.commit()
            return replies
        except CommandError as exc:
            savepoint.rollback()
            return [Reply(self._explain(ctx, cmd, exc), in_reply_to=ctx.event_id)]
        except Exception:
            savepoint.rollback()
            log.exception("command %s failed in %s", cmd.name, ctx.room_id)
            return [Reply(i18n.t(ctx.lang, "error.internal"), in_reply_to=ctx.event_id)]

    @staticmethod
    def _explain(ctx: Context, cmd: Command, exc: CommandError) -> Rich:
        try:
            msg = i18n.t(ctx.lang, exc.key, **exc.values)
        except (KeyError, IndexError, ValueError):
            # A catalogue gap must still give the member an answer, never silence.
            log.exception("message %s of command %s cannot be rendered", exc.key, cmd.name)
            return i18n.t(ctx.lang, "error.internal")
        if isinstance(exc, UsageError):
            msg = (
                msg + "\n" + i18n.t(ctx.lang, "error.usage", usage=cmd.usage(ctx.lang, ctx.prefix))
            )
        return msg

    def _unknown(self, ctx: Context, name: str) -> Reply:
        suggestion = self.suggest(name)
        if suggestion:
            cmd = self._by_name[suggestion]
            msg = i18n.t(
                ctx.lang,
                "error.unknown_command_suggest",
                name=ctx.prefix + name,
                suggestion=ctx.prefix + cmd.display_name(ctx.lang),
                help=ctx.prefix + ("help" if ctx.lang == "en" else "hilfe"),
            )
        else:
            msg = i18n.t(
                ctx.lang,
                "error.unknown_command",
                name=ctx.prefix + name,
                help=ctx.prefix + ("help" if ctx.lang == "en" else "hilfe"),
            )
        return Reply(msg, in_reply_to=ctx.event_id)

    @staticmethod
    def _normalise(ctx: Context, result: HandlerResult) -> list[Reply]:
        items: Sequence[Reply | Rich] = [result] if isinstance(result, (Reply, Rich)) else result
        replies: list[Reply] = []
        for item in items:
            if isinstance(item, Rich):
                item = Reply(item, in_reply_to=ctx.event_id)
            replies.append(item)
        return replies
