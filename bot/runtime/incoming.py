"""A Matrix message reduced to what the command layer needs, and its handling.

Runs in the database thread: one transaction holds the command's own writes, the replies
it owes (outbox) and the mark that the event was handled, so a crash leaves either all
of it or none, and a replayed event is never acted on twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam
from sqlmodel import Session

from bot.runtime.flood import FloodControl, Verdict
from bot.runtime.outgoing import enqueue_effect
from commands.core import i18n
from commands.core.context import Context
from commands.core.defaults import Defaults, limits
from commands.core.effects import AnyEffect, PollStart, Reply
from commands.core.listeners import Activity, Precondition, preconditions
from commands.core.power import StateLevels
from commands.core.registry import Registry
from commands.core.rich import mention
from commands.core.room import role_of, room_language, room_timezone
from commands.parsing.dates import format_datetime
from storage import events, outbox, rooms
from storage.db import Database
from storage.models import OutboxMessage, Room

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingMessage:
    room_id: str
    event_id: str
    sender: str
    timestamp: dt.datetime
    body: str
    html: str | None = None
    mentions: tuple[str, ...] = ()
    reply_to: str | None = None
    members: Mapping[str, str] = field(default_factory=dict)
    power_levels: Mapping[str, int] = field(default_factory=dict)
    # What the room's power levels require to send state events (Context.state_levels).
    state_levels: StateLevels = field(default_factory=StateLevels)
    # The root of the thread the command was written in: it is answered there.
    thread_root: str | None = None
    # The room's name as its members see it (remembered for texts about several rooms).
    room_name: str | None = None


@dataclass(frozen=True)
class BotSettings:
    """What the bot's config and start-up give every event it handles.

    Built once at start-up: its `flood` buckets count each member's commands for as long
    as it lives (a BotSettings made per event would never see a flood).
    """

    server_name: str
    prefix: str
    coordinators: frozenset[str]
    registry: Registry  # built once at start-up (commands.features.build_registry)
    defaults: Defaults
    # Commands older than this when the bot reads them are not carried out (config
    # `catchup.horizon_days`): after a long outage, week-old orders would surprise people.
    catchup_horizon: dt.timedelta = dt.timedelta(days=7)
    # The bot's own user ID (left out where "every member" is meant).
    bot_user: str | None = None
    # Each member's command rate per room (bot.runtime.flood; limits from `defaults`).
    flood: FloodControl = field(default_factory=FloodControl)
    # The current members (joined or invited) of any room the bot is in, by room ID: an
    # answer by direct message counts only from a member of the committee it is about.
    room_members: Callable[[str], Mapping[str, str]] | None = None
    # Told (after the commit) of a room whose language a command changed: the commands
    # it offers clients are published anew (bot.runtime.command_state).
    language_changed: Callable[[str], None] | None = None


@dataclass(frozen=True)
class IncomingReaction:
    room_id: str
    event_id: str
    sender: str
    timestamp: dt.datetime
    key: str
    target_event_id: str
    members: Mapping[str, str] = field(default_factory=dict)
    power_levels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingPollResponse:
    """An answer to a native poll (m.poll.response, either form), from any client."""

    room_id: str
    event_id: str
    sender: str
    timestamp: dt.datetime
    start_event_id: str
    # The answer IDs as sent; None when the client sent no list of strings.
    answers: tuple[str, ...] | None
    members: Mapping[str, str] = field(default_factory=dict)
    power_levels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingActivity:
    """Any other message of a member: only the features' listeners hear of it."""

    room_id: str
    event_id: str
    sender: str
    timestamp: dt.datetime
    display_name: str = ""


def handle_message(
    db: Database, msg: IncomingMessage, conf: BotSettings, now: Callable[[], dt.datetime]
) -> int:
    """Handle one command message; returns how many replies were queued."""
    with db.session() as s:
        arrival = _arrive(s, msg, conf, now)
        if arrival is None:
            return 0
        too_old = now() - msg.timestamp > conf.catchup_horizon
        verdict = _flood_verdict(msg, conf, now)
        if not verdict.allowed:
            # Not carried out, and marked handled so it is never carried out later either;
            # the member hears of it once per flood, not once per command (of a flood
            # beyond the catch-up horizon the first answers already said "too old").
            log.info(
                "flood: not carrying out %s of %s in %s", msg.event_id, msg.sender, msg.room_id
            )
            tell = verdict.notify and not too_old
            notices = [_flood_notice(s, msg, conf, verdict)] if tell else []
            queued = queue_effects(
                s, msg.event_id, msg.room_id, notices, thread_root=msg.thread_root
            )
            arrival.mark_processed(s, msg)
            return queued
        if too_old:
            queue_effects(s, msg.event_id, msg.room_id, [_too_old(s, msg, conf)])
            arrival.mark_processed(s, msg)
            return 1
        rooms.remember_name(s, msg.room_id, msg.room_name)
        _notice(s, msg, conf, arrival)
        ctx = _context(s, msg, conf, arrival)
        replies = conf.registry.dispatch(ctx, msg.body) or []
        queued = queue_effects(s, msg.event_id, msg.room_id, replies, thread_root=msg.thread_root)
        arrival.mark_processed(s, msg)
        relanguaged = _language_changed(s, msg.room_id, ctx.lang, conf)
    if relanguaged and conf.language_changed is not None:
        try:
            conf.language_changed(msg.room_id)
        except Exception:  # the command is handled and answered whatever happens here
            log.exception("telling of the new language of %s failed", msg.room_id)
    return queued


def _language_changed(s: Session, room_id: str, before: str, conf: BotSettings) -> bool:
    """Whether the command changed the room's language. Costs no statement unless a
    setting was written: the room's settings are kept for the session (storage.rooms)."""
    if conf.language_changed is None:
        return False
    return room_language(s, room_id, conf.defaults.language) != before


def handle_reaction(
    db: Database, reaction: IncomingReaction, conf: BotSettings, now: Callable[[], dt.datetime]
) -> int:
    """A reaction on one of the bot's messages acts on the object that message is about."""
    with db.session() as s:
        arrival = _arrive(s, reaction, conf, now)
        if arrival is None:
            return 0  # marked handled already, or by `_arrive`
        if now() - reaction.timestamp > conf.catchup_horizon:
            arrival.mark_processed(s, reaction)
            return 0
        _notice(s, reaction, conf, arrival)
        target = outbox.find_by_event_id(s, reaction.target_event_id)
        replies: list[AnyEffect] = []
        if target is not None and target.ref_kind is not None and target.ref_id is not None:
            ctx = _context(s, reaction, conf, arrival)
            replies = conf.registry.react(ctx, reaction.key, target.ref_kind, target.ref_id)
        queued = queue_effects(s, reaction.event_id, reaction.room_id, replies)
        arrival.mark_processed(s, reaction)
        return queued


def handle_text_reply(
    db: Database, msg: IncomingMessage, conf: BotSettings, now: Callable[[], dt.datetime]
) -> int:
    """A plain message (no command) answering a bot message: acted on only when the
    message it answers is about an object whose feature takes plain answers (a survey's
    free-text question); every other conversation is none of the bot's business."""
    if msg.reply_to is None:
        return 0
    with db.session() as s:
        if events.is_processed(s, msg.event_id):
            return 0
        answered = outbox.find_by_event_id(s, msg.reply_to)
        if answered is None or answered.ref_kind not in conf.registry.text_reply_kinds:
            return 0
        body = msg.body
        return _answer_to_bot(
            s,
            msg,
            answered,
            conf,
            now,
            lambda ctx, kind, ref: conf.registry.reply_text(ctx, kind, ref, body),
        )


def handle_poll_response(
    db: Database, answer: IncomingPollResponse, conf: BotSettings, now: Callable[[], dt.datetime]
) -> int:
    """An answer to one of the bot's polls, in a committee room or in a member's
    direct-message room with the bot; answers to other polls are none of its business."""
    with db.session() as s:
        if events.is_processed(s, answer.event_id):
            return 0
        poll_start = outbox.find_by_event_id(s, answer.start_event_id)
        if poll_start is None or poll_start.ref_kind is None or poll_start.ref_id is None:
            log.info(
                "ignoring poll response %s in %s: %s is no poll of the bot's",
                answer.event_id,
                answer.room_id,
                answer.start_event_id,
            )
            events.mark_processed(s, answer.event_id, answer.room_id)
            return 0
        answers = answer.answers
        return _answer_to_bot(
            s,
            answer,
            poll_start,
            conf,
            now,
            lambda ctx, kind, ref: conf.registry.respond(ctx, kind, ref, answers),
        )


def _answer_to_bot(
    s: Session,
    ev: IncomingMessage | IncomingPollResponse,
    target: OutboxMessage,
    conf: BotSettings,
    now: Callable[[], dt.datetime],
    run: Callable[[Context, str, int], list[AnyEffect]],
) -> int:
    """An event answering one of the bot's messages (a poll, a question) goes to the
    feature that message is about; `ctx.extra["sent_to"]` names whom it was sent to when
    it went to a member's direct-message room, and `ctx.extra["members_of"]` looks up the
    current members of any room (an answer by direct message counts only from a member
    of the committee it is about). An answer to a direct message counts only from the
    room that message was sent to."""
    if target.ref_kind is None or target.ref_id is None:
        return 0
    arrival = _arrive(s, ev, conf, now)
    if arrival is None:
        return 0
    ctx = _context(s, ev, conf, arrival)
    members_of = conf.room_members or _only_room_of(ev)
    ctx = ctx.with_(extra={**ctx.extra, "sent_to": target.to_user, "members_of": members_of})
    if target.to_user is not None and target.room_id != ev.room_id:
        # Sent to one member's direct-message room, answered elsewhere (a response event
        # may name any event ID, in any room): it does not count, for the member neither.
        log.info(
            "ignoring %s in %s: it answers a message sent to another room",
            ev.event_id,
            ev.room_id,
        )
        effects: list[AnyEffect] = []
    else:
        effects = run(ctx, target.ref_kind, target.ref_id)
    queued = queue_effects(s, ev.event_id, ev.room_id, effects)
    arrival.mark_processed(s, ev)
    return queued


def _only_room_of(
    ev: IncomingMessage | IncomingPollResponse,
) -> Callable[[str], Mapping[str, str]]:
    """Without the bot's rooms (`BotSettings.room_members`): only the event's own room's
    members are known, every other room has none."""
    members = dict(ev.members)
    return lambda room_id: members if room_id == ev.room_id else {}


def handle_activity(
    db: Database, act: IncomingActivity, conf: BotSettings, now: Callable[[], dt.datetime]
) -> None:
    """A message that is no command: the listeners note it (a meeting's attendance).

    It is not marked handled: the listeners are idempotent, and marking every chat message
    would grow the table of handled events by the room's whole conversation.
    """
    with db.session() as s:
        arrival = _arrive(s, act, conf, now)
        if arrival is not None and now() - act.timestamp <= conf.catchup_horizon:
            _notice(s, act, conf, arrival)


AnyIncoming = IncomingMessage | IncomingReaction | IncomingPollResponse | IncomingActivity


@dataclass(frozen=True)
class _Arrival:
    """An event that is the bot's business, and what handling it needs to know of its
    room: read in one statement (storage.rooms.facts) and handed around."""

    facts: rooms.RoomFacts
    # Held for the whole handling: the session finds it again without a query.
    room: Room
    # The event's moment for the features: when it was sent, never later than now.
    at: dt.datetime
    # The truth of each guarded listener's precondition for the room at `at`.
    holds: Mapping[Precondition, bool]

    def mark_processed(self, s: Session, ev: AnyIncoming) -> None:
        """Seen unmarked by `_arrive` in this transaction: marked without looking again."""
        direct = self.facts.direct_since is not None
        events.mark_processed(s, ev.event_id, ev.room_id, direct=direct, new=True)


# The event's moment in the query `_arrive` makes (the guarded listeners' preconditions).
EVENT_AT: BindParameter[dt.datetime] = bindparam("event_at")


@functools.cache
def _facts_query(wanted: tuple[Precondition, ...]) -> Select[Any]:
    """What `_arrive` asks, for the registry's preconditions: built once per registry."""
    checks = [events.PROCESSED, *(p(rooms.ROOM_ID, EVENT_AT) for p in wanted)]
    return rooms.facts_query(checks)


def _arrive(
    s: Session, ev: AnyIncoming, conf: BotSettings, now: Callable[[], dt.datetime]
) -> _Arrival | None:
    """None for events already handled, for history from before the bot joined, and for
    events of a room the bot has been removed from since (these two are marked handled).

    One statement asks everything the handling of most events needs: whether the event
    was handled, the room (its join), whether it is a member's direct-message room, its
    settings, the sender's role, and the preconditions of the guarded listeners."""
    # The moment a command's Context gets too, so that listeners and handlers compare alike.
    at = min(now(), ev.timestamp)
    wanted = tuple(preconditions(conf.registry.listeners))
    params = {**events.processed_params(s, ev.event_id), EVENT_AT.key: at}
    facts = rooms.facts(s, _facts_query(wanted), ev.room_id, user_id=ev.sender, params=params)
    handled, *holds = facts.checks
    if handled:
        return None
    room = facts.room
    if room is None:
        # A direct-message room: the bot made it for one member, and everything since is
        # meant for the bot (it still counts as no committee: see
        # storage.rooms.committee_rooms). Any other room was joined before this database
        # existed: what was said until now is history.
        joined = facts.direct_since if facts.direct_since is not None else now()
        room = rooms.ensure_room(s, ev.room_id, joined_at=joined)
    arrival = _Arrival(facts=facts, room=room, at=at, holds=dict(zip(wanted, holds, strict=True)))
    # Left: the kick may be seen while the room's earlier events are still being handled;
    # an answer queued now could never be sent (and would hold up the sender's retries).
    if ev.timestamp < room.joined_at or room.left_at is not None:
        arrival.mark_processed(s, ev)
        return None
    return arrival


def _notice(
    s: Session,
    ev: IncomingMessage | IncomingReaction | IncomingActivity,
    conf: BotSettings,
    arrival: _Arrival,
) -> None:
    if not conf.registry.listeners:
        return
    name = ev.display_name if isinstance(ev, IncomingActivity) else ev.members.get(ev.sender, "")
    conf.registry.notice(
        Activity(
            room_id=ev.room_id,
            sender=ev.sender,
            display_name=name,
            at=arrival.at,
            event_id=ev.event_id,
            db=s,
            holds=arrival.holds,
        )
    )


def _flood_verdict(
    msg: IncomingMessage, conf: BotSettings, now: Callable[[], dt.datetime]
) -> Verdict:
    """Counted by when the command was sent (never later than now): commands caught up
    after an outage arrive together but were sent apart."""
    if conf.registry.parse(msg.body, conf.prefix) is None:
        return Verdict(allowed=True)
    sent_at = min(now(), msg.timestamp)
    return conf.flood.check(msg.room_id, msg.sender, msg.event_id, sent_at, limits(conf.defaults))


def _flood_notice(s: Session, msg: IncomingMessage, conf: BotSettings, verdict: Verdict) -> Reply:
    tz = room_timezone(s, msg.room_id, conf.defaults.timezone)
    lang = room_language(s, msg.room_id, conf.defaults.language)
    quota = limits(conf.defaults)
    assert verdict.next_at is not None
    text = i18n.t(
        lang,
        "limits.flood",
        name=mention(msg.sender, msg.members.get(msg.sender) or msg.sender),
        burst=quota.command_burst,
        interval=f"{quota.command_interval.total_seconds():g}",
        until=f"{verdict.next_at.astimezone(tz):%H:%M:%S}",
    )
    return Reply(text, in_reply_to=msg.event_id)


def _too_old(s: Session, msg: IncomingMessage, conf: BotSettings) -> Reply:
    tz = room_timezone(s, msg.room_id, conf.defaults.timezone)
    lang = room_language(s, msg.room_id, conf.defaults.language)
    days = conf.catchup_horizon / dt.timedelta(days=1)
    text = i18n.t(
        lang,
        "catchup.too_old",
        sent=format_datetime(msg.timestamp.astimezone(tz), lang),
        days=f"{days:g}",
    )
    return Reply(text, in_reply_to=msg.event_id)


def _context(
    s: Session,
    msg: IncomingMessage | IncomingReaction | IncomingPollResponse,
    conf: BotSettings,
    arrival: _Arrival,
) -> Context:
    tz = room_timezone(s, msg.room_id, conf.defaults.timezone)
    reply_to = msg.reply_to if isinstance(msg, IncomingMessage) else None
    return Context(
        room_id=msg.room_id,
        sender=msg.sender,
        event_id=msg.event_id,
        # "bis morgen" means the day after the command was written, however late it is read.
        now=arrival.at.astimezone(tz),
        db=s,
        registry=conf.registry,
        lang=room_language(s, msg.room_id, conf.defaults.language),
        tz=tz,
        defaults=conf.defaults,
        role=role_of(
            msg.sender,
            arrival.facts.role,
            power_level=msg.power_levels.get(msg.sender, 0),
            coordinators=conf.coordinators,
        ),
        server_name=conf.server_name,
        prefix=conf.prefix,
        mentions=_user_ids(msg.mentions) if isinstance(msg, IncomingMessage) else (),
        members=msg.members,
        reply_to=reply_to,
        coordinators=conf.coordinators,
        power_levels=msg.power_levels,
        state_levels=msg.state_levels if isinstance(msg, IncomingMessage) else StateLevels(),
        extra=_reply_reference(s, reply_to),
        html_body=msg.html if isinstance(msg, IncomingMessage) else None,
        bot_user=conf.bot_user,
    )


def _user_ids(values: Sequence[object]) -> tuple[str, ...]:
    """Only what looks like a user ID: a client's malformed m.mentions (a string where a
    list belongs, read letter by letter) must not make people of "@" and "a"."""
    found = (v for v in values if isinstance(v, str) and v.startswith("@") and ":" in v)
    return tuple(dict.fromkeys(found))


def reply_key(source_key: str, index: int) -> str:
    """The outbox key of the index-th reply to an event: the same event, the same keys."""
    return f"reply:{source_key}:{index}"


def queue_effects(
    s: Session,
    source_key: str,
    room_id: str,
    effects: Sequence[AnyEffect],
    *,
    thread_root: str | None = None,
    stable_polls: bool = False,
) -> int:
    """Store what a command (a reaction, a reminder…) owes for sending; returns how many.

    `source_key` names the cause (its event ID), `room_id` is its room. An effect with its
    own `key` is stored under it, others under ``reply:<source>:<index>`` as always, so
    nothing stored before changes meaning. Replies and polls for the command's room go
    into its thread when it was written in one (`thread_root`). `stable_polls` renders
    poll starts with the stable m.poll.* names instead of those Element reads today.
    """
    queued = 0
    for i, effect in enumerate(effects):
        if thread_root is not None:
            effect = _in_thread(effect, room_id, thread_root)
        key = effect.key or reply_key(source_key, i)
        try:
            enqueue_effect(s, key, room_id, effect, stable_polls=stable_polls)
        except outbox.UnknownTarget as exc:
            # A handler's mistake: the rest of what it owes still goes out.
            log.error("not sending %s (from %s): %s", type(effect).__name__, source_key, exc)
            continue
        queued += 1
    return queued


def _in_thread(effect: AnyEffect, room_id: str, root: str) -> AnyEffect:
    if not isinstance(effect, Reply | PollStart) or effect.thread_root is not None:
        return effect
    if effect.to_user is not None or effect.room_id not in (None, room_id):
        return effect
    return dataclasses.replace(effect, thread_root=root)


def _reply_reference(s: Session, reply_to: str | None) -> dict[str, object]:
    """When the command answers a bot message, name the object that message was about."""
    if not reply_to:
        return {}
    sent = outbox.find_by_event_id(s, reply_to)
    if sent is None or sent.ref_kind is None:
        return {}
    return {"ref_kind": sent.ref_kind, "ref_id": sent.ref_id}
