"""What is due: the reminder engine the scheduler calls at every wake-up.

`plan()` derives, from the database as it is now, every reminder occurrence that is due
and not yet handled (agreement reminders before/on/after the due date, overdue escalation,
the weekly digest, `!erinnere` reminders), with the message to post and the moment the
next one falls due. Nothing about the future is stored, so a completed, re-dated or
reassigned agreement changes its reminders at once. The reminders' timer (`reminders_due`)
hands the scheduler what is due; `mark_handled()` records an occurrence in the same
transaction that queues its message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from commands.core import i18n
from commands.core.effects import Reply
from commands.core.names import display_name, pills
from commands.core.registry import Router
from commands.core.rich import Rich, code, text, trusted
from commands.core.room import CHAIR_POWER_LEVEL, LANGUAGE_KEY
from commands.core.timers import Timed, TimerEnv, TimerResult
from commands.parsing.dates import (
    format_date,
    format_datetime,
)
from commands.parsing.recurrence import Recurrence
from commands.reminders.digest import digest_text
from commands.reminders.policy import (
    AgreementFacts,
    Occurrence,
    Policy,
    Snooze,
    agreement_occurrences,
    decide,
    digest_occurrences,
    next_moment,
    once_occurrences,
    recurring_occurrences,
)
from commands.reminders.settings import policy_from_settings
from storage import agreements as agreement_store
from storage import lease, rooms
from storage import reminders as store
from storage.models import (
    Agreement,
    LogStatus,
    RefKind,
    Reminder,
    ReminderKind,
    ReminderSnooze,
    ReminderStatus,
)

log = logging.getLogger(__name__)

router = Router()

# Agreements (digests, reminders) planned at a time: a wake-up's memory stays that of one
# batch however many there are (at 500 rooms with 50,000 agreements a pass over all rooms
# peaked at 17 MB of Python allocations in one go, 4 MB in batches). One batch's owners and
# restarts take one IN (…) each (storage.db.IN_CHUNK).
BATCH = 500


# ---------------------------------------------------------------------------------------------
# What the scheduler gets


@dataclass(frozen=True)
class Due:
    """One occurrence to handle now: post `reply`, or (reply None) record it as skipped."""

    key: str
    kind: ReminderKind
    room_id: str
    occurrence_at: dt.datetime
    reply: Reply | None
    late: bool = False
    agreement_id: int | None = None
    reminder_id: int | None = None
    # Recurring reminders passed over are not logged one by one (only last_fired_at moves).
    log: bool = True


@dataclass
class Plan:
    due: list[Due] = field(default_factory=list)
    next_at: dt.datetime | None = None

    def later(self, moment: dt.datetime | None) -> None:
        if moment is not None and (self.next_at is None or moment < self.next_at):
            self.next_at = moment


@dataclass(frozen=True)
class _RoomInfo:
    policy: Policy
    lang: str
    joined_at: dt.datetime


# ---------------------------------------------------------------------------------------------
# Collecting occurrences from the database


@dataclass
class PlanItem:
    """One object (agreement, reminder, room digest) and its occurrences."""

    # RefKind.AGREEMENT, RefKind.REMINDER or ReminderKind.DIGEST (the room's)
    kind: RefKind | ReminderKind
    room_id: str
    occurrences: list[Occurrence]
    agreement: Agreement | None = None
    owners: tuple[str, ...] = ()
    reminder: Reminder | None = None


def _rooms(db: Session, env: TimerEnv, room_id: str | None) -> dict[str, _RoomInfo]:
    if room_id is None:
        stored = rooms.all_room_settings(db)
        active = rooms.active_room_ids(db)
    else:
        room = rooms.get_room(db, room_id)
        active = [(room_id, room.joined_at)] if room and room.left_at is None else []
        stored = {room_id: rooms.get_settings(db, room_id)}
    found: dict[str, _RoomInfo] = {}
    for rid, joined_at in active:
        values = stored.get(rid, {})
        policy = policy_from_settings(values, env.defaults)
        lang = values.get(LANGUAGE_KEY) or env.defaults.language
        found[rid] = _RoomInfo(policy, lang, joined_at)
    return found


def _calendar_days(working_days: int) -> int:
    # Generous: weekends plus a cluster of holidays (Christmas, Easter).
    return working_days * 7 // 5 + 12


def collect_items(
    db: Session,
    now: dt.datetime,
    env: TimerEnv,
    room_id: str | None = None,
    *,
    ahead_days: int = 0,
) -> tuple[dict[str, _RoomInfo], list[PlanItem]]:
    """Every object with reminders and its occurrences, all at once (see `item_batches`)."""
    infos = _rooms(db, env, room_id)
    items = [item for batch in item_batches(db, now, infos, room_id, ahead_days) for item in batch]
    return infos, items


def item_batches(
    db: Session,
    now: dt.datetime,
    infos: Mapping[str, _RoomInfo],
    room_id: str | None = None,
    ahead_days: int = 0,
    *,
    size: int | None = None,
) -> Iterator[list[PlanItem]]:
    """The objects with reminders and their occurrences, `size` at a time: agreements in
    the order of their IDs, then those put off beyond the window, then the rooms' digests,
    then the `!erinnere` reminders.

    Agreements are looked at from their overdue span back to what the before-reminder
    needs ahead (or ``ahead_days``): the scheduler looks again at least hourly, so later
    due dates come in time. Read page by page, so that a wake-up over every room holds
    one page of agreements, their occurrences and handled keys at a time, not all of them.
    """
    if not infos:
        return
    size = size or BATCH
    floor = lease.epoch(db)
    today = now.date()
    ahead = max(ahead_days, *(_calendar_days(i.policy.before_days) for i in infos.values()))
    behind = max(i.policy.overdue_every_days * i.policy.overdue_times for i in infos.values()) + 14
    snoozes = {
        s.ref_id: s
        for s in store.active_snoozes(db, RefKind.AGREEMENT, since=now - dt.timedelta(days=behind))
    }
    seen: set[int] = set()  # snoozed agreements found in the window
    after: int | None = None
    while True:
        page = agreement_store.open_agreements(
            db,
            due_from=today - dt.timedelta(days=behind),
            due_to=today + dt.timedelta(days=ahead),
            room_id=room_id,
            after_id=after,
            limit=size,
        )
        if not page:
            break
        after = page[-1].id
        seen.update(a.id for a in page if a.id in snoozes)
        yield _agreement_items(db, page, infos, snoozes, floor)
        if len(page) < size:
            break
    # Put off (`!später`) beyond the window's end: looked at until the snooze is over.
    extra = [i for i in snoozes if i not in seen]
    if extra:
        found = [
            a
            for a in agreement_store.open_agreements_by_ids(db, extra)
            if a.due_date is not None and (room_id is None or a.room_id == room_id)
        ]
        for i in range(0, len(found), size):
            yield _agreement_items(db, found[i : i + size], infos, snoozes, floor)
    digests: list[PlanItem] = []
    for rid, info in infos.items():
        joined = max(info.joined_at, floor or info.joined_at)
        occ = _guarded(
            f"the digest of {rid}", digest_occurrences, rid, info.policy, now, joined_at=joined
        )
        if occ:
            digests.append(PlanItem(ReminderKind.DIGEST, rid, occ))
        if len(digests) >= size:
            yield digests
            digests = []
    if digests:
        yield digests
    reminders = store.active_reminders(db, room_id)
    for i in range(0, len(reminders), size):
        yield _reminder_items(db, reminders[i : i + size], infos, now)


def _agreement_items(
    db: Session,
    agreements: Sequence[Agreement],
    infos: Mapping[str, _RoomInfo],
    snoozes: Mapping[int, ReminderSnooze],
    floor: dt.datetime | None,
) -> list[PlanItem]:
    ids = [a.id for a in agreements if a.id is not None]
    owners = agreement_store.owners_of(db, ids)
    restarted = agreement_store.restarted_at(db, ids)
    items: list[PlanItem] = []
    for a in agreements:
        info = infos.get(a.room_id)
        if info is None or a.id is None:
            continue
        since = max(a.created_at, restarted.get(a.id, a.created_at), floor or a.created_at)
        facts = AgreementFacts(
            id=a.id,
            room_id=a.room_id,
            number=a.number,
            text=a.text,
            status=a.status,
            due_date=a.due_date,
            due_time=a.due_time,
            owners=tuple(owners.get(a.id, ())),
            created_by=a.created_by,
            active_since=since,
        )
        sn = snoozes.get(a.id)
        snooze = Snooze(sn.until, sn.set_at) if sn is not None else None
        found = _guarded(
            f"agreement #{a.number} in {a.room_id}",
            agreement_occurrences,
            facts,
            info.policy,
            snooze,
        )
        if found is not None:
            items.append(
                PlanItem(RefKind.AGREEMENT, a.room_id, found, agreement=a, owners=facts.owners)
            )
    return items


def _reminder_items(
    db: Session, reminders: Sequence[Reminder], infos: Mapping[str, _RoomInfo], now: dt.datetime
) -> list[PlanItem]:
    snoozed = store.snoozes(db, RefKind.REMINDER, [r.id for r in reminders if r.id])
    items: list[PlanItem] = []
    for r in reminders:
        info = infos.get(r.room_id)
        if info is None or r.id is None:
            continue
        rs = snoozed.get(r.id)
        rsnooze = Snooze(rs.until, rs.set_at) if rs is not None else None
        occ = _guarded(
            f"reminder {r.number} in {r.room_id}", _reminder_occurrences, r, info, now, rsnooze
        )
        if occ is not None:
            items.append(PlanItem(RefKind.REMINDER, r.room_id, occ, reminder=r))
    return items


def _reminder_occurrences(
    r: Reminder, info: _RoomInfo, now: dt.datetime, snooze: Snooze | None
) -> list[Occurrence]:
    assert r.id is not None
    if r.due_at is not None:
        return once_occurrences(r.id, r.due_at, snooze, info.policy, created_at=r.created_at)
    rule = recurrence_of(r)
    if rule is None:
        return []
    since = max(r.active_since, r.last_fired_at or r.active_since)
    # After a long downtime only the latest missed occurrence matters.
    since = max(since, now - dt.timedelta(days=400))
    return recurring_occurrences(
        r.id, rule, info.policy.tz, since=since, now=now, snooze=snooze, policy=info.policy
    )


def _guarded(
    what: str, compute: Callable[..., list[Occurrence]], *args: Any, **kwargs: Any
) -> list[Occurrence] | None:
    """One object's bad data (a date past the calendar's end) skips that object only."""
    try:
        return compute(*args, **kwargs)
    except (OverflowError, ValueError) as exc:
        log.warning("skipping the reminders of %s: %s", what, exc)
        return None


def handled_keys(db: Session, items: Sequence[PlanItem]) -> set[str]:
    keys = [o.key for item in items for o in item.occurrences]
    return store.handled_keys(db, keys=keys)


# ---------------------------------------------------------------------------------------------
# The plan at a wake-up


def plan(db: Session, now: dt.datetime, env: TimerEnv, *, room_id: str | None = None) -> Plan:
    """Everything due at ``now`` and not handled yet, and when the next thing falls due."""
    infos = _rooms(db, env, room_id)
    result = Plan()
    # Batch by batch in the caller's one transaction: what is due is queued and recorded
    # as handled together, whatever the number of agreements.
    for items in item_batches(db, now, infos, room_id):
        handled = handled_keys(db, items)
        for item in items:
            try:
                due, next_at = _plan_item(db, item, infos[item.room_id], handled, now, env)
            except (OverflowError, ValueError) as exc:
                log.warning("skipping a %s in %s: %s", item.kind, item.room_id, exc)
                continue
            result.due.extend(due)
            result.later(next_at)
    return result


def _plan_item(
    db: Session,
    item: PlanItem,
    info: _RoomInfo,
    handled: set[str],
    now: dt.datetime,
    env: TimerEnv,
) -> tuple[list[Due], dt.datetime | None]:
    found: list[Due] = []
    decision = decide(item.occurrences, handled, now, info.policy, late_after=env.late_after)
    done = {o.key for o in item.occurrences if o.key in handled}
    for skipped in decision.skip:
        done.add(skipped.key)
        logged = not (item.kind == RefKind.REMINDER and skipped.kind == ReminderKind.RECURRING)
        found.append(_due(item, skipped, None, False, log=logged))
    if decision.send is not None:
        occ = decision.send
        done.add(occ.key)
        ask = asks_reason(item, occ, handled)
        reply = _render(db, item, occ, decision.late, info, now, env, ask_reason=ask)
        found.append(_due(item, occ, reply, decision.late))
    return found, next_moment(item.occurrences, done, now, info.policy)


def asks_reason(item: PlanItem, occ: Occurrence, handled: Collection[str]) -> bool:
    """Whether this reminder asks the owners for the reason of the delay (`!grund`): once,
    with the first overdue reminder that goes out, while no reason is stored. An earlier
    overdue reminder already handled (posted, or passed over in a wake-up that posted a
    later one) asked already; one passed over in this wake-up did not."""
    a = item.agreement
    if a is None or occ.kind != ReminderKind.OVERDUE or a.delay_reason is not None:
        return False
    return not any(
        o.kind == ReminderKind.OVERDUE and o.index < occ.index and o.key in handled
        for o in item.occurrences
    )


def _due(
    item: PlanItem, occ: Occurrence, reply: Reply | None, late: bool, *, log: bool = True
) -> Due:
    return Due(
        key=occ.key,
        kind=occ.kind,
        room_id=item.room_id,
        occurrence_at=occ.nominal,
        reply=reply,
        late=late,
        agreement_id=item.agreement.id if item.agreement is not None else None,
        reminder_id=item.reminder.id if item.reminder is not None else None,
        log=log,
    )


def mark_handled(db: Session, due: Due, *, outbox_id: int | None, now: dt.datetime) -> None:
    """Record the occurrence as handled, in the transaction that queued its message."""
    if due.log:
        store.record(
            db,
            key=due.key,
            room_id=due.room_id,
            kind=due.kind,
            occurrence_at=due.occurrence_at,
            now=now,
            status=LogStatus.SENT if due.reply is not None else LogStatus.SKIPPED,
            late=due.late,
            agreement_id=due.agreement_id,
            reminder_id=due.reminder_id,
            outbox_id=outbox_id,
        )
    if due.reminder_id is None:
        return
    reminder = store.reminder_by_id(db, due.reminder_id)
    if reminder is None:
        return
    if reminder.due_at is not None:
        if due.reply is not None:
            store.update_reminder(db, reminder, now=now, status=ReminderStatus.DONE)
    elif due.kind == ReminderKind.RECURRING and (
        reminder.last_fired_at is None or due.occurrence_at > reminder.last_fired_at
    ):
        store.update_reminder(db, reminder, now=now, last_fired_at=due.occurrence_at)


@router.timer("reminders")
def reminders_due(db: Session, now: dt.datetime, env: TimerEnv, room_id: str | None) -> TimerResult:
    """What is due now, for the scheduler to queue (see `owed`)."""
    return owed(db, plan(db, now, env, room_id=room_id), now)


def owed(db: Session, result: Plan, now: dt.datetime) -> TimerResult:
    """A plan's occurrences as the messages to queue, each under a stable key; each is
    recorded as handled with its outbox message when queued (one passed over has none)."""
    return TimerResult(
        [
            Timed(
                f"reminder:{due.key}",
                due.room_id,
                due.reply,
                reminder=True,
                late=due.late,
                queued=_recorder(db, due, now),
            )
            for due in result.due
        ],
        result.next_at,
    )


def _recorder(db: Session, due: Due, now: dt.datetime) -> Callable[[int | None], None]:
    def record(outbox_id: int | None) -> None:
        mark_handled(db, due, outbox_id=outbox_id, now=now)

    return record


# ---------------------------------------------------------------------------------------------
# Rendering what is posted


def _people(user_ids: Sequence[str], names: Mapping[str, str]) -> Rich:
    return pills(user_ids, names)


def number_label(value: int) -> Rich:
    return Rich(f"#{value}", f"<b>#{value}</b>")


def shorten(value: str, limit: int = 300) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _render(
    db: Session,
    item: PlanItem,
    occ: Occurrence,
    late: bool,
    info: _RoomInfo,
    now: dt.datetime,
    env: TimerEnv,
    *,
    ask_reason: bool = False,
) -> Reply | None:
    lang, tz = info.lang, info.policy.tz
    lines: list[Rich] = []
    if late:
        when = format_datetime(occ.at.astimezone(tz), lang)
        lines.append(i18n.t(lang, "reminder.late", when=when))
    if item.kind == ReminderKind.DIGEST:
        body = _digest(db, item.room_id, lang, now.astimezone(tz), env)
        if body is None:
            return None  # nothing open: no digest this week
        return Reply(Rich.join([*lines, body]), notice=True, room_id=item.room_id)
    names = env.members(item.room_id)
    if item.kind == RefKind.AGREEMENT:
        a = item.agreement
        assert a is not None
        assert a.id is not None
        assert a.due_date is not None
        lines.extend(_agreement_lines(a, item.owners, occ, info, names, env, now, ask_reason))
        return Reply(
            Rich.join(lines),
            notice=False,
            ref_kind=RefKind.AGREEMENT,
            ref_id=a.id,
            room_id=item.room_id,
        )
    r = item.reminder
    assert r is not None
    assert r.id is not None
    rule = recurrence_of(r)
    creator = display_name(r.created_by, names)
    if rule is not None:
        lines.append(
            i18n.t(
                lang,
                "reminder.recurring",
                number=r.number,
                rule=rule.describe(lang),
                text=text(r.text),
            )
        )
    else:
        lines.append(
            i18n.t(lang, "reminder.once", number=r.number, creator=creator, text=text(r.text))
        )
    # Only members of the room now: someone who has left is not pinged any more.
    people = [u for u in reminder_mentions(r) if not names or u in names]
    if people:
        lines.append(i18n.t(lang, "reminder.for_people", people=_people(people, names)))
    return Reply(
        Rich.join(lines), notice=False, ref_kind=RefKind.REMINDER, ref_id=r.id, room_id=item.room_id
    )


def _agreement_lines(
    a: Agreement,
    owners: Sequence[str],
    occ: Occurrence,
    info: _RoomInfo,
    names: Mapping[str, str],
    env: TimerEnv,
    now: dt.datetime,
    ask_reason: bool = False,
) -> list[Rich]:
    lang, tz = info.lang, info.policy.tz
    assert a.due_date is not None
    due = format_date(a.due_date, lang)
    today = (
        occ.at.astimezone(tz).date()
        if occ.kind != ReminderKind.SNOOZE
        else now.astimezone(tz).date()
    )
    number = number_label(a.number)
    body = text(shorten(a.text))
    if occ.kind == ReminderKind.OVERDUE:
        main = i18n.t(
            lang, "reminder.agreement.overdue", number=number, text=body, due=due, index=occ.index
        )
    elif today < a.due_date:
        main = i18n.t(lang, "reminder.agreement.before", number=number, text=body, due=due)
    elif today == a.due_date:
        main = i18n.t(lang, "reminder.agreement.due", number=number, text=body)
    else:
        main = i18n.t(lang, "reminder.agreement.due_past", number=number, text=body, due=due)
    lines = [main]
    if owners:
        lines.append(i18n.t(lang, "reminder.agreement.owners", people=_people(owners, names)))
    else:
        lines.append(
            i18n.t(lang, "reminder.agreement.no_owner", people=_people([a.created_by], names))
        )
    if occ.escalate:
        watchers = _watchers(a.room_id, env, names, exclude=owners)
        if watchers:
            lines.append(
                i18n.t(lang, "reminder.agreement.escalate", people=_people(watchers, names))
            )
    if ask_reason:
        word = "reason" if lang == "en" else "grund"
        lines.append(
            i18n.t(lang, "reminder.agreement.ask_reason", cmd=code(f"!{word} {a.number} …"))
        )
    lines.append(trusted(i18n.raw(lang, "reminder.agreement.hint")))
    return lines


def _watchers(
    room_id: str, env: TimerEnv, names: Mapping[str, str], *, exclude: Sequence[str]
) -> list[str]:
    """Chair (power level 50 or more) and coordination, for the escalation."""
    levels = env.power_levels(room_id)
    chairs = sorted(u for u, level in levels.items() if level >= CHAIR_POWER_LEVEL)
    found: list[str] = []
    for user in [*chairs, *sorted(env.coordinators)]:
        if user != env.bot_user and user not in found and user not in exclude:
            found.append(user)
    return found


def _digest(db: Session, room_id: str, lang: str, now: dt.datetime, env: TimerEnv) -> Rich | None:
    items = agreement_store.open_agreements(db, room_id=room_id, with_due_date=False)
    if not items:
        return None
    owners = agreement_store.owners_of(db, [a.id for a in items if a.id is not None])
    since = dt.datetime.combine(now.date() - dt.timedelta(days=7), dt.time(0), tzinfo=dt.UTC)
    done = agreement_store.closed_agreements_since(db, room_id, since)
    return digest_text(
        lang=lang,
        now=now,
        open_items=items,
        owners=owners,
        done_since=done,
        names=env.members(room_id),
    )


# ---------------------------------------------------------------------------------------------
# Reminders set with !erinnere: stored values


def recurrence_of(r: Reminder) -> Recurrence | None:
    if not r.recurrence:
        return None
    data = json.loads(r.recurrence)
    hours, minutes = (int(x) for x in data["time"].split(":"))
    return Recurrence(
        data["freq"], dt.time(hours, minutes), tuple(data.get("weekdays") or ()), data.get("nth")
    )


def recurrence_value(rule: Recurrence) -> str:
    return json.dumps(
        {
            "freq": rule.freq,
            "time": f"{rule.time:%H:%M}",
            "weekdays": list(rule.weekdays),
            "nth": rule.nth,
        }
    )


def reminder_mentions(r: Reminder) -> list[str]:
    """The people a reminder mentions: a JSON list of user IDs. Anything else stored there
    (a bare string, numbers, broken JSON) yields the user IDs it holds, never its letters."""
    if not r.mentions:
        return []
    try:
        stored = json.loads(r.mentions)
    except ValueError:
        return []
    items = [stored] if isinstance(stored, str) else stored if isinstance(stored, list) else []
    return [u for u in items if isinstance(u, str) and u.startswith("@") and ":" in u]
