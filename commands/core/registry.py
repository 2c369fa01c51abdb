"""Declaring a feature (Router) and running what it declared (Registry).

A feature declares everything in one place, its Router (one per module, as in aiogram;
a feature package includes its modules' routers in one): its commands with their German
name, other names (English; ASCII spellings are derived) and the role they need; what a
reaction on one of the bot's messages does; its room settings. Usage line, summary and
long help come from the catalogue under `cmd.<name>.*`, so `!hilfe` and error answers
read the same declaration as dispatch does.

`commands.features.build_registry()` builds the one Registry from the list of every
feature's router; the bot builds it once and hands it to handlers as `ctx.registry`.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from commands.core import i18n, text_input
from commands.core.config_section import ConfigSection, ConfigSectionRule
from commands.core.context import Context, Role
from commands.core.effects import AnyEffect, Effect, HandlerResult, Reply
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.file_jobs import FileJobRule, FileMaker
from commands.core.listeners import Activity, DueDateResolver, Listener
from commands.core.reactions import (
    PollResponseHandler,
    PollResponseRule,
    ReactionHandler,
    ReactionRule,
    TextReplyHandler,
    TextReplyRule,
    normalise_key,
)
from commands.core.rich import Rich, code
from commands.core.setting import Setting
from commands.core.timers import Timer, TimerRule
from commands.core.when import When
from storage.db import UNAVAILABLE as DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], HandlerResult]

_COMMAND = re.compile(r"([^\W\d_][\w-]*)(?:\s+(.*))?$", re.DOTALL)
# Between the real examples of a usage line (`cmd.<name>.usage`):
# "liste · liste meine · liste @Anna".
USAGE_SEPARATOR = " · "
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


class CommandOutcome(StrEnum):
    """How a command ended, as the bot layer counts it (metrics, logs)."""

    OK = "ok"
    INVALID = "invalid"  # answered with what was wrong in the input
    REFUSED = "refused"  # the member lacks the role
    FAILED = "failed"  # an internal error, answered as such
    UNKNOWN = "unknown"  # no such command


CommandObserver = Callable[[str, CommandOutcome], None]


def fold(word: str) -> str:
    """Case- and umlaut-insensitive key: `Ändern`, `ändern` and `aendern` are one name."""
    return word.strip().lower().translate(_FOLD)


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    role: Role
    handler: Handler
    group: str  # the help section (`help.group.<group>` in the catalogue)
    hidden: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def examples(self, lang: str, prefix: str = "!") -> list[str]:
        """The usage line's real examples (`cmd.<name>.usage`, separated by " · "), each
        with the prefix: `!liste`, `!liste meine`, `!liste @Anna`. The first is the most
        common form and the one the `!hilfe` overview shows."""
        raw = i18n.raw(lang, f"cmd.{self.name}.usage")
        return [prefix + part.strip() for part in raw.split(USAGE_SEPARATOR) if part.strip()]

    def usage(self, lang: str, prefix: str = "!") -> str:
        """The examples as plain text on one line."""
        return USAGE_SEPARATOR.join(self.examples(lang, prefix))

    def usage_rich(self, lang: str, prefix: str = "!", *, first_only: bool = False) -> Rich:
        """The examples as commands to type (`code`), for help and error answers."""
        examples = self.examples(lang, prefix)
        shown = examples[:1] if first_only else examples
        return Rich.join((code(e) for e in shown), USAGE_SEPARATOR)

    def summary(self, lang: str) -> str:
        return i18n.raw(lang, f"cmd.{self.name}.summary")

    def who(self, lang: str) -> str:
        """Who may use it, as help and docs/permissions.md say: `cmd.<name>.who` where the
        handler checks more than the declared role (owners, a creator, a subcommand's
        role), else the declared role's own text (`permission.who.<role>`)."""
        key = f"cmd.{self.name}.who"
        if i18n.has(lang, key):
            return i18n.raw(lang, key)
        return i18n.raw(lang, f"permission.who.{self.role.name.lower()}")

    def display_name(self, lang: str) -> str:
        """The name shown in help: German name, or the first English alias in English."""
        if lang == "en" and self.aliases:
            return self.aliases[0]
        return self.name


@dataclass(frozen=True)
class _Declared:
    """A command as its module declares it; its help section comes from the router tree."""

    name: str
    aliases: tuple[str, ...]
    role: Role
    handler: Handler
    hidden: bool


class Router:
    """What one feature (or one module of it) declares: commands, reactions, settings.

    `group` names the help section of its commands; a router without one takes the group
    of the router that includes it, so a feature package names its section once.
    """

    def __init__(self, group: str | None = None) -> None:
        self.group = group
        self._commands: list[_Declared] = []
        self.reactions: list[ReactionRule] = []
        self.poll_responses: list[PollResponseRule] = []
        self.text_replies: list[TextReplyRule] = []
        self.settings: list[Setting] = []
        self.timers: list[TimerRule] = []
        self.listeners: list[Listener] = []
        self.due_dates: list[DueDateResolver] = []
        self.config_sections: list[ConfigSectionRule] = []
        self.file_jobs: list[FileJobRule] = []
        self.included: list[Router] = []

    def command(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        role: Role = Role.MEMBER,
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            self._commands.append(_Declared(name, tuple(aliases), role, handler, hidden))
            return handler

        return declare

    def reaction(
        self, ref_kind: str, keys: Iterable[str]
    ) -> Callable[[ReactionHandler], ReactionHandler]:
        """A reaction with one of `keys` on a bot message about a `ref_kind` object."""

        def declare(handler: ReactionHandler) -> ReactionHandler:
            normalised = frozenset(normalise_key(k) for k in keys)
            self.reactions.append(ReactionRule(ref_kind, normalised, handler))
            return handler

        return declare

    def poll_response(self, ref_kind: str) -> Callable[[PollResponseHandler], PollResponseHandler]:
        """An answer (m.poll.response) to a native poll the bot sent about a `ref_kind`."""

        def declare(handler: PollResponseHandler) -> PollResponseHandler:
            self.poll_responses.append(PollResponseRule(ref_kind, handler))
            return handler

        return declare

    def text_reply(self, ref_kind: str) -> Callable[[TextReplyHandler], TextReplyHandler]:
        """A plain answer (no command) to a bot message about a `ref_kind` object."""

        def declare(handler: TextReplyHandler) -> TextReplyHandler:
            self.text_replies.append(TextReplyRule(ref_kind, handler))
            return handler

        return declare

    def setting(self, setting: Setting) -> Setting:
        """A room setting; `!einstellungen` lists them in the order the routers give."""
        self.settings.append(setting)
        return setting

    def config_section(self, name: str, model: type[ConfigSection]) -> None:
        """The feature's section `name:` of the config file (see commands.core.config_section)."""
        self.config_sections.append(ConfigSectionRule(name, model))

    def timer(self, name: str) -> Callable[[Timer], Timer]:
        """Work at a time of the feature's own (see commands.core.timers)."""

        def declare(run: Timer) -> Timer:
            self.timers.append(TimerRule(name, run))
            return run

        return declare

    def file_job(self, name: str) -> Callable[[FileMaker], FileMaker]:
        """A file made later, off the database thread (see commands.core.file_jobs)."""

        def declare(make: FileMaker) -> FileMaker:
            self.file_jobs.append(FileJobRule(name, make))
            return make

        return declare

    def listener(self) -> Callable[[Listener], Listener]:
        """Called for every message and reaction in a room (see commands.core.listeners)."""

        def declare(run: Listener) -> Listener:
            self.listeners.append(run)
            return run

        return declare

    def due_date(self) -> Callable[[DueDateResolver], DueDateResolver]:
        """A due date the feature names, e.g. `bis zur nächsten Sitzung`."""

        def declare(resolve: DueDateResolver) -> DueDateResolver:
            self.due_dates.append(resolve)
            return resolve

        return declare

    def include(self, *routers: Router) -> Router:
        self.included.extend(routers)
        return self

    def walk(self, group: str | None = None) -> Iterator[tuple[Router, str | None]]:
        """This router and every included one, in order, each with its help group."""
        own = self.group or group
        yield self, own
        for child in self.included:
            yield from child.walk(own)

    def declared(self, group: str | None) -> list[Command]:
        if self._commands and group is None:
            names = ", ".join(d.name for d in self._commands)
            raise ValueError(f"commands {names} have no help group: give their router one")
        return [
            Command(d.name, d.aliases, d.role, d.handler, group or "", d.hidden)
            for d in self._commands
        ]


class Registry:
    """Every command, reaction rule and room setting of the bot, and their dispatch."""

    def __init__(self, routers: Iterable[Router]) -> None:
        self.commands: list[Command] = []
        self.reactions: list[ReactionRule] = []
        self.poll_responses: list[PollResponseRule] = []
        self.text_replies: list[TextReplyRule] = []
        self.settings: list[Setting] = []
        self.timers: list[TimerRule] = []
        self.listeners: list[Listener] = []
        self.due_dates: list[DueDateResolver] = []
        self.config_sections: list[ConfigSectionRule] = []
        # A job's name -> its maker (commands.core.file_jobs).
        self.file_jobs: dict[str, FileMaker] = {}
        self._by_name: dict[str, Command] = {}
        self._setting_by_name: dict[str, Setting] = {}
        self._observers: list[CommandObserver] = []
        for top in routers:
            for router, group in top.walk():
                for cmd in router.declared(group):
                    self._add_command(cmd)
                self.reactions.extend(router.reactions)
                self.timers.extend(router.timers)
                self.poll_responses.extend(router.poll_responses)
                self.text_replies.extend(router.text_replies)
                self.listeners.extend(router.listeners)
                self.due_dates.extend(router.due_dates)
                for setting in router.settings:
                    self._add_setting(setting)
                for section in router.config_sections:
                    self._add_config_section(section)
                for job in router.file_jobs:
                    if job.name in self.file_jobs:
                        raise ValueError(f"file job {job.name!r} declared twice")
                    self.file_jobs[job.name] = job.make

    def _add_command(self, cmd: Command) -> None:
        for n in cmd.names:
            key = fold(n)
            if key in self._by_name:
                raise ValueError(f"command name {n!r} declared twice")
            self._by_name[key] = cmd
        self.commands.append(cmd)

    def _add_config_section(self, section: ConfigSectionRule) -> None:
        if any(s.name == section.name for s in self.config_sections):
            raise ValueError(f"config section {section.name!r} declared twice")
        self.config_sections.append(section)

    def _add_setting(self, setting: Setting) -> None:
        if any(s.key == setting.key for s in self.settings):
            raise ValueError(f"setting {setting.key!r} declared twice")
        for n in setting.names:
            key = fold(n)
            if key in self._setting_by_name:
                raise ValueError(f"setting name {n!r} declared twice")
            self._setting_by_name[key] = setting
        self.settings.append(setting)

    def observe(self, observer: CommandObserver) -> None:
        """Be told of every dispatched command: its name and how it ended."""
        self._observers.append(observer)

    def _observed(self, name: str, outcome: CommandOutcome) -> None:
        for observer in self._observers:
            try:
                observer(name, outcome)
            except Exception:  # counting must never cost a command its answer
                log.exception("command observer failed")

    @property
    def groups(self) -> list[str]:
        """Help sections in the order of the routers."""
        return list(dict.fromkeys(c.group for c in self.commands))

    def find(self, name: str) -> Command | None:
        return self._by_name.get(fold(name))

    def find_setting(self, name: str) -> Setting | None:
        return self._setting_by_name.get(fold(name))

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

    def dispatch(self, ctx: Context, body: str) -> list[AnyEffect] | None:
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
            self._observed("unknown", CommandOutcome.UNKNOWN)
            return [self._unknown(ctx, name)]
        # A savepoint, so a failing handler undoes only its own writes.
        savepoint = ctx.db.begin_nested()
        try:
            # The bound of every command's input, before any handler parses it.
            text_input.check_command(args)
            if ctx.role < cmd.role:
                raise PermissionDenied(f"permission.needs_{cmd.role.name.lower()}")
            replies = _normalise(ctx, cmd.handler(ctx, args))
            savepoint.commit()
            self._observed(cmd.name, CommandOutcome.OK)
            return replies
        except CommandError as exc:
            savepoint.rollback()
            refused = isinstance(exc, PermissionDenied)
            self._observed(cmd.name, CommandOutcome.REFUSED if refused else CommandOutcome.INVALID)
            return [Reply(self._explain(ctx, cmd, exc, args), in_reply_to=ctx.event_id)]
        except DATABASE_UNAVAILABLE:
            # Not the command's failure: the caller's whole transaction is retried once
            # the database answers. Answering "internal error" would lose the command.
            with contextlib.suppress(Exception):
                savepoint.rollback()
            raise
        except Exception:
            savepoint.rollback()
            ref = reference_code()
            log.exception("command %s failed in %s (reference %s)", cmd.name, ctx.room_id, ref)
            self._observed(cmd.name, CommandOutcome.FAILED)
            return [Reply(internal_error(ctx.lang, ref), in_reply_to=ctx.event_id)]

    def react(self, ctx: Context, key: str, ref_kind: str, ref_id: int) -> list[AnyEffect]:
        """Run the rule for this reaction; a reaction no rule handles is silently fine.

        Unlike a command, a failing rule raises: a reaction gets no answer of its own,
        and the bot layer's transaction is rolled back with it.
        """
        for rule in self.reactions:
            if rule.matches(ref_kind, key):
                return _in_savepoint(ctx, partial(rule.handler, ctx, key, ref_id))
        return []

    def respond(
        self, ctx: Context, ref_kind: str, ref_id: int, answers: tuple[str, ...] | None
    ) -> list[AnyEffect]:
        """Run the rule for an answer to a bot's poll; none: the answer is ignored.

        Like a reaction, a failing rule raises and the bot layer's transaction is undone.
        """
        for rule in self.poll_responses:
            if rule.ref_kind == ref_kind:
                return _in_savepoint(ctx, partial(rule.handler, ctx, ref_id, answers))
        return []

    def reply_text(self, ctx: Context, ref_kind: str, ref_id: int, body: str) -> list[AnyEffect]:
        """Run the rule for a plain answer to a bot message; none: nothing happens. A
        refusal (too long, too late) is answered, as a command's is."""
        for rule in self.text_replies:
            if rule.ref_kind == ref_kind:
                try:
                    return _in_savepoint(ctx, partial(rule.handler, ctx, ref_id, body))
                except CommandError as exc:
                    refusal = i18n.t(ctx.lang, exc.key, **exc.values)
                    return [Reply(refusal, in_reply_to=ctx.event_id)]
        return []

    @property
    def text_reply_kinds(self) -> frozenset[str]:
        return frozenset(rule.ref_kind for rule in self.text_replies)

    def notice(self, activity: Activity) -> None:
        """Tell every listener that a member wrote or reacted; each in a savepoint."""
        for run in self.listeners:
            savepoint = activity.db.begin_nested()
            try:
                run(activity)
                savepoint.commit()
            except DATABASE_UNAVAILABLE:
                with contextlib.suppress(Exception):
                    savepoint.rollback()
                raise
            except Exception:
                # Noticing is a side matter: the command behind it must still be answered.
                savepoint.rollback()
                log.exception("listener %s failed in %s", run.__name__, activity.room_id)

    def named_due_date(self, ctx: Context, value: str) -> When | None:
        """The date a feature's phrase names (`bis zur nächsten Sitzung`), else None."""
        for resolve in self.due_dates:
            when = resolve(ctx, value)
            if when is not None:
                return when
        return None

    @staticmethod
    def _explain(ctx: Context, cmd: Command, exc: CommandError, args: str = "") -> Rich:
        values = dict(exc.values)
        if isinstance(exc, PermissionDenied):
            # A refusal names what was refused: `!sitzung start`, `!einstellungen sprache`.
            values.setdefault("command", _refused_command(ctx, cmd, args))
        try:
            msg = i18n.t(ctx.lang, exc.key, **values)
        except (KeyError, IndexError, ValueError):
            # A catalogue gap must still give the member an answer, never silence.
            ref = reference_code()
            log.exception(
                "message %s of command %s cannot be rendered (reference %s)", exc.key, cmd.name, ref
            )
            return internal_error(ctx.lang, ref)
        if isinstance(exc, UsageError):
            usage = cmd.usage_rich(ctx.lang, ctx.prefix)
            msg = msg + "\n" + i18n.t(ctx.lang, "error.usage", usage=usage)
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


def reference_code() -> str:
    """A short code for one internal error: the member's answer and the log line both
    name it, so IT finds the failure the member reports ("F-7K2Q9C")."""
    return "F-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


# No 0/O, 1/I/L: read aloud on the phone without mix-ups.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def internal_error(lang: str, ref: str) -> Rich:
    """The answer to a failure in the bot (not in the input), with its reference code."""
    return i18n.t(lang, "error.internal", code=ref)


def _refused_command(ctx: Context, cmd: Command, args: str) -> str:
    """The command as refused, with its subcommand word when one was given (`start`)."""
    shown = ctx.prefix + cmd.display_name(ctx.lang)
    first = args.split(maxsplit=1)[0] if args.strip() else ""
    if first and first.isalpha():
        shown += " " + first
    return shown


def _in_savepoint(ctx: Context, run: Callable[[], HandlerResult | None]) -> list[AnyEffect]:
    """Run a rule in a savepoint: what it wrote is undone when it raises."""
    savepoint = ctx.db.begin_nested()
    try:
        result = run()
        savepoint.commit()
    except Exception:
        savepoint.rollback()
        raise
    return [] if result is None else _normalise(ctx, result)


def _normalise(ctx: Context, result: HandlerResult) -> list[AnyEffect]:
    items: Sequence[AnyEffect | Rich] = [result] if isinstance(result, Effect | Rich) else result
    replies: list[AnyEffect] = []
    for item in items:
        if isinstance(item, Rich):
            item = Reply(item, in_reply_to=ctx.event_id)
        replies.append(item)
    return replies
