"""Dialog tests: a member says something in a room, the bot's replies come back.

Runs the real command layer and the real storage, without a homeserver, the way
Zulip's and errbot's bot tests read: `dialog.say("@anna:example.org", "!liste")`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from commands.core.context import Context
from commands.core.defaults import Defaults
from commands.core.effects import Reply
from commands.core.registry import Registry
from commands.features import build_registry
from commands.general import role_rules as roles
from commands.general import settings
from storage import rooms
from storage.db import Database

BERLIN = ZoneInfo("Europe/Berlin")
NOW_FOR_TESTS = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
ROOM = "!gremium:example.org"
ANNA = "@anna:example.org"
BEN = "@ben:example.org"
CARLA = "@carla:example.org"
CHAIR = "@vorsitz:example.org"
COORDINATOR = "@buero:example.org"
STRANGER = "@fremd:example.org"

# One registry for every dialog: building it is what the bot does once at start-up.
REGISTRY = build_registry()


@dataclass
class Dialog:
    database: Database
    room_id: str = ROOM
    # Monday, 9 March 2026, 10:15 in Berlin — the reference "now" of the date examples.
    now: dt.datetime = dt.datetime(2026, 3, 9, 10, 15, tzinfo=BERLIN)
    members: dict[str, str] = field(
        default_factory=lambda: {
            ANNA: "Anna Schmidt",
            BEN: "Ben Okafor",
            CARLA: "Carla Weber",
            CHAIR: "Vorsitz Meyer",
            COORDINATOR: "Bildungsbüro",
        }
    )
    power_levels: dict[str, int] = field(default_factory=lambda: {CHAIR: 50})
    coordinators: frozenset[str] = frozenset({COORDINATOR})
    server_name: str = "example.org"
    defaults: Defaults = field(default_factory=Defaults)
    registry: Registry = REGISTRY
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    last_event_id: str = ""

    def _ctx(self, s: object, sender: str, event_id: str, **kw: object) -> Context:
        from sqlmodel import Session

        assert isinstance(s, Session)
        rooms.ensure_room(s, self.room_id, joined_at=self.now - dt.timedelta(days=30))
        tz = settings.room_timezone(s, self.room_id, self.defaults.timezone)
        base = Context(
            room_id=self.room_id,
            sender=sender,
            event_id=event_id,
            now=self.now.astimezone(tz),
            db=s,
            registry=self.registry,
            lang=settings.room_language(s, self.room_id, self.defaults.language),
            tz=tz,
            defaults=self.defaults,
            role=roles.effective_role(
                s,
                self.room_id,
                sender,
                power_level=self.power_levels.get(sender, 0),
                coordinators=self.coordinators,
            ),
            server_name=self.server_name,
            members=dict(self.members),
            coordinators=self.coordinators,
            power_levels=dict(self.power_levels),
        )
        return base.with_(**kw) if kw else base

    def say(
        self,
        sender: str,
        body: str,
        *,
        mentions: tuple[str, ...] = (),
        html: str | None = None,
        ref: tuple[str, int] | None = None,
    ) -> list[Reply]:
        """Send `body`; `ref` makes it a reply to a bot message about (kind, id)."""
        event_id = f"$ev{next(self._ids)}"
        self.last_event_id = event_id
        extra = {"ref_kind": ref[0], "ref_id": ref[1]} if ref else {}
        with self.database.session() as s:
            ctx = self._ctx(
                s,
                sender,
                event_id,
                mentions=mentions,
                html_body=html,
                extra=extra,
                reply_to="$bot-message" if ref else None,
            )
            return self.registry.dispatch(ctx, body) or []

    def text(self, sender: str, body: str, **kw: object) -> str:
        """The plain text of all replies, joined: what the member reads."""
        return "\n".join(r.body for r in self.say(sender, body, **kw))  # type: ignore[arg-type]

    def react(self, sender: str, key: str, ref: tuple[str, int]) -> list[Reply]:
        event_id = f"$ev{next(self._ids)}"
        with self.database.session() as s:
            ctx = self._ctx(s, sender, event_id)
            return self.registry.react(ctx, key, ref[0], ref[1])
