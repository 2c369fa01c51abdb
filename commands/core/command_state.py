"""The bot's commands as room state, so that a client can offer them while a member types.

From the Registry's declarations and a room's language this module makes the state
events that describe the commands; `bot.runtime.command_state` sends them where the bot
may, and only what differs from the room's current state. Nothing here talks to Matrix.

What the proposals say and what clients read (as far as the proposals, mautrix-go,
gomuks and Element Web's code show), and so which form this takes:

- MSC4391 "Simplified in-room bot commands" (matrix-org/matrix-spec-proposals#4391,
  unstable type `org.matrix.msc4391.command_description`): one state event per command.
  Its content is `command` (the name, no sigil), `description` and per parameter a `key`,
  a type `schema` (`{"schema_type": "primitive", "type": "string"}`), `optional` and a
  `description`; texts are MSC1767 `{"m.text": [{"body": …}]}`. The state key is NOT the
  command's name: the proposal derives it from `sha256(command + bot user ID)`, padded
  base64, as mautrix-go's `event/cmdschema` (`EventContent.StateKey`, the reference
  implementation gomuks web and terminal are built on) computes it, and a client ported
  from it (andromuks) drops a description whose state key does not match; a name as
  state key would be dropped there. These implementations also read `aliases` and
  `fi.mau.tail_parameter` (the parameter that takes the rest of the
  line unquoted), which this bot needs: its commands take free text (`!verabredung
  Entwurf an Schulamt @Anna bis Freitag`), so each command gets at most one string
  parameter that takes the rest of the line, described by the usage line's examples.
  A description is withdrawn by emptying its content (`{}`), as state is "deleted".
- MSC4332 "In-room bot commands" (matrix-org/matrix-spec-proposals#4332, unstable type
  `org.matrix.msc4332.commands`): one state event for all commands, state key = the
  bot's user ID, content `{"sigil": "!", "commands": [{"syntax": "liste {angaben}",
  "description": …, "variables": {"angaben": …}}]}`. No released Element Web reads
  either proposal that we found; the one Element Web implementation found reads MSC4332
  (behind a labs flag `feature_msc4332_bot_commands`, `botCommands.ts`): it accepts only
  ASCII words as a command (`/^[\\w-]+( [\\w-]+)*$/`, against look-alike letters), at most
  50 commands per bot and 200 characters of description, hides names that are Element's
  own commands (`/help`) and inserts `sigil + syntax` into the composer. gomuks's
  MSC4332 composer (gomuks#655) stayed a draft; gomuks reads MSC4391.

Both are published: MSC4391 is what shipping clients read, MSC4332 is what Element Web
reads once it lands, and it costs one event more. In MSC4332 a name is written in ASCII
(`aendern`, `schliessen`), which the registry accepts as the same command; in MSC4391
the name is the one `!hilfe` shows, its ASCII spelling and the other language's names
are its aliases. Names, descriptions and examples are those of the room's language, from
the catalogue (`cmd.<name>.summary`, `cmd.<name>.usage`), so help and client agree.

`io.element.functional_members` (Element's "service members", MSC4171's unstable form;
state key "", content `{"service_members": [user IDs]}`) makes Element leave the bot out
of the room's name and avatar; it is made in the bot layer, which must keep the other
members already listed there.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from commands.core import i18n
from commands.core.registry import Command, Registry, fold

MSC4391_TYPE = "org.matrix.msc4391.command_description"
MSC4332_TYPE = "org.matrix.msc4332.commands"
FUNCTIONAL_MEMBERS_TYPE = "io.element.functional_members"
# mautrix-go's extension read by gomuks: this parameter takes the rest of the line.
TAIL_PARAMETER = "fi.mau.tail_parameter"


@dataclass(frozen=True)
class StateEvent:
    """One state event as it should be in the room."""

    event_type: str
    state_key: str
    content: dict[str, Any]


def text(body: str) -> dict[str, Any]:
    """An MSC1767 text block, as both proposals write descriptions."""
    return {"m.text": [{"body": body}]}


def msc4391_state_key(command: str, bot_user: str) -> str:
    """The state key MSC4391 derives for a command: padded base64 of
    sha256(command + bot user ID), as mautrix-go computes and clients check it."""
    digest = hashlib.sha256((command + bot_user).encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class _Described:
    """One command as a client is told of it, in one language."""

    name: str  # as `!hilfe` shows it in this language
    ascii_name: str  # the same name in ASCII letters (MSC4332)
    aliases: tuple[str, ...]
    summary: str
    # The parameter's name and description; None: the command takes no input.
    argument: tuple[str, str] | None
    optional: bool  # the command is also given without input (`!liste`)


def _described(cmd: Command, lang: str, prefix: str) -> _Described:
    name = cmd.display_name(lang)
    examples = cmd.examples(lang, prefix)
    bare = prefix + name
    inputs = [e for e in examples if fold(e) != fold(bare)]
    argument = None
    if inputs:
        description = i18n.plain(
            lang, "command_state.argument_examples", examples=" · ".join(inputs)
        )
        argument = (i18n.raw(lang, "command_state.argument"), description)
    # Every other name the registry accepts, and each in ASCII letters (`aendern`).
    spellings = [s for n in cmd.names for s in (n, fold(n))]
    aliases = tuple(a for a in dict.fromkeys(spellings) if a != name)
    return _Described(
        name=name,
        ascii_name=fold(name),
        aliases=aliases,
        summary=cmd.summary(lang),
        argument=argument,
        optional=len(inputs) < len(examples),
    )


def _offered(registry: Registry, lang: str, prefix: str) -> list[_Described]:
    """The commands `!hilfe` lists, in its order."""
    return [_described(c, lang, prefix) for c in registry.commands if not c.hidden]


def msc4391_events(
    registry: Registry, lang: str, *, prefix: str, bot_user: str
) -> list[StateEvent]:
    """One `org.matrix.msc4391.command_description` per command, in help order."""
    found = []
    for d in _offered(registry, lang, prefix):
        content: dict[str, Any] = {"command": d.name, "description": text(d.summary)}
        if d.aliases:
            content["aliases"] = list(d.aliases)
        if d.argument is not None:
            key, description = d.argument
            content["parameters"] = [
                {
                    "key": key,
                    "schema": {"schema_type": "primitive", "type": "string"},
                    "optional": d.optional,
                    "description": text(description),
                }
            ]
            content[TAIL_PARAMETER] = key
        found.append(StateEvent(MSC4391_TYPE, msc4391_state_key(d.name, bot_user), content))
    return found


def msc4332_event(registry: Registry, lang: str, *, prefix: str, bot_user: str) -> StateEvent:
    """The one `org.matrix.msc4332.commands` event: every command, in help order."""
    commands = []
    for d in _offered(registry, lang, prefix):
        entry: dict[str, Any] = {"syntax": d.ascii_name, "description": text(d.summary)}
        if d.argument is not None:
            key, description = d.argument
            entry["syntax"] = f"{d.ascii_name} {{{key}}}"
            entry["variables"] = {key: text(description)}
        commands.append(entry)
    return StateEvent(MSC4332_TYPE, bot_user, {"sigil": prefix, "commands": commands})


def command_events(
    registry: Registry, lang: str, *, prefix: str, bot_user: str
) -> list[StateEvent]:
    """Every state event that describes the bot's commands in a room of language `lang`:
    the MSC4332 event first, then one MSC4391 event per command, in help order."""
    return [
        msc4332_event(registry, lang, prefix=prefix, bot_user=bot_user),
        *msc4391_events(registry, lang, prefix=prefix, bot_user=bot_user),
    ]
