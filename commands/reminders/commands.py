"""Reminders: `!erinnere`, `!erinnerungen`, `!später`, `!pause`, `!weiter` — and what is due.

Commands (German first, English aliases):

- `!erinnere <wann> <text>` / `!remind`: a one-off reminder in this room at that time
  (`!erinnere morgen 10 Uhr Raum buchen`), or a recurring one
  (`!erinnere jeden montag 9:00 Tagesordnung einreichen`). Explicit times are exact.
- `!erinnere löschen N` / `!remind delete N` (also `!erinnerungen löschen N`): cancel
  reminder no. N.
- `!erinnerungen` / `!reminders`: what the bot will post next in this room, with times.
- `!später [N] [dauer]` / `!snooze`: as a reply to a reminder, put that agreement's (or
  reminder's) next reminder off; `N` names an agreement when not replying.
- `!pause N` / `!weiter N` (`!resume`): pause and resume a recurring reminder.

What is due, and the messages the scheduler posts, live in commands/reminders/plan.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

from sqlalchemy import func
from sqlmodel import col, select

from commands.agreements.common import may_change
from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.defaults import limits
from commands.core.errors import CommandError, PermissionDenied, UsageError
from commands.core.names import name_list
from commands.core.registry import Router
from commands.core.rich import Rich, text
from commands.core.timers import TimerEnv
from commands.parsing.dates import (
    YEARS_AHEAD_LIMIT,
    fold,
    format_date,
    format_date_short,
    format_datetime,
    format_time,
    parse_duration,
    parse_when,
    split_when_prefix,
    too_far_ahead,
)
from commands.parsing.mentions import require_in_room, take_mentions
from commands.parsing.recurrence import parse_recurrence
from commands.reminders.plan import (
    PlanItem,
    collect_items,
    handled_keys,
    number_label,
    recurrence_of,
    recurrence_value,
    reminder_mentions,
    shorten,
)
from commands.reminders.policy import (
    Occurrence,
    Policy,
    explicit_post_time,
    next_allowed,
    upcoming,
)
from commands.reminders.settings import policy_from_settings
from storage import agreements as agreement_store
from storage import reminders as store
from storage import rooms
from storage.models import (
    Agreement,
    AgreementStatus,
    RefKind,
    Reminder,
    ReminderKind,
    ReminderStatus,
)

router = Router()

TEXT_LIMIT = 1000
MAX_YEARS_AHEAD = 5
DEFAULT_SNOOZE = dt.timedelta(days=1)
LIST_LIMIT = 15
LIST_AHEAD_DAYS = 90  # `!erinnerungen` shows agreement reminders up to this far ahead

_DELETE_WORDS = frozenset(
    {"loeschen", "loesche", "entfernen", "entferne", "streichen", "delete", "cancel", "remove"}
)
_NUMBER = re.compile(r"(?:#|nr\.?|no\.?)?\s*(\d{1,9})[.:,]?")


# ---------------------------------------------------------------------------------------------
# Commands


def _env(ctx: Context) -> TimerEnv:
    members = dict(ctx.members or {})
    levels = dict(ctx.power_levels)
    return TimerEnv(
        defaults=ctx.defaults,
        coordinators=ctx.coordinators,
        members=lambda _room: members,
        power_levels=lambda _room: levels,
    )


def _policy(ctx: Context) -> Policy:
    return policy_from_settings(rooms.get_settings(ctx.db, ctx.room_id), ctx.defaults)


def _when_text(ctx: Context, moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(ctx.tz), ctx.lang)


def _list_when(ctx: Context, moment: dt.datetime) -> str:
    """A moment in a list: "Mo., 7.12., 09:00 Uhr" (the year only when it is another)."""
    local = moment.astimezone(ctx.tz)
    day = format_date_short(local.date(), ctx.lang, ctx.now.astimezone(ctx.tz).date())
    return f"{day}, {format_time(local.time().replace(second=0, microsecond=0), ctx.lang)}"


def _check_text(value: str, *, when: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise CommandError("reminder.text_missing", when=when)
    if len(cleaned) > TEXT_LIMIT:
        raise CommandError("reminder.too_long", length=len(cleaned), limit=TEXT_LIMIT)
    return cleaned


def _addressees(ctx: Context, message: str) -> str | None:
    """The people the reminder will mention again (stored as a JSON list), all of them
    members of this room: a reminder cannot be used to ping strangers."""
    found = take_mentions(ctx, message).user_ids
    people = [u for u in dict.fromkeys(found) if u != ctx.bot_user]
    require_in_room(ctx, people)
    return json.dumps(people) if people else None


def _live_count(ctx: Context, *, creator: str | None = None) -> int:
    stmt = select(func.count()).where(
        Reminder.room_id == ctx.room_id, col(Reminder.status).in_(store.LIVE_STATUSES)
    )
    if creator is not None:
        stmt = stmt.where(Reminder.created_by == creator)
    return int(ctx.db.exec(stmt).one())


def _check_quota(ctx: Context) -> None:
    """Per member and per room: at most so many reminders active or paused (config
    `limits:`); the answer names the limit and how to free one."""
    quota = limits(ctx.defaults)
    free = command_hint(ctx, "erinnere löschen", "remind delete", 3)
    listing = command_hint(ctx, "erinnerungen", "reminders")
    mine = quota.reminders_per_member
    if mine and _live_count(ctx, creator=ctx.sender) >= mine:
        raise CommandError("limits.reminders_member", limit=mine, free=free, listing=listing)
    room = quota.reminders_per_room
    if room and _live_count(ctx) >= room:
        raise CommandError("limits.reminders_room", limit=room, free=free, listing=listing)


def _quiet_note(
    ctx: Context, policy: Policy, moment: dt.datetime, *, once: bool = True
) -> Rich | None:
    """A line saying that a reminder in the quiet hours waits until they end (a one-off
    one asked for in the night, for that night, does not: see `explicit_post_time`)."""
    posted = explicit_post_time(moment, policy, ctx.now if once else None)
    if posted == moment or policy.quiet is None:
        return None
    start, end = policy.quiet
    return i18n.t(
        ctx.lang,
        "limits.quiet_moved",
        when=_when_text(ctx, posted),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
    )


def _with_note(rich: Rich, note: Rich | None) -> Rich:
    return rich if note is None else Rich.join([rich, note])


@router.command("erinnere", aliases=("remind", "erinnern"))
def remind(ctx: Context, args: str) -> Rich:
    stripped = args.strip()
    if not stripped:
        raise UsageError("reminder.when_missing")
    head, _, rest = stripped.partition(" ")
    if fold(head) in _DELETE_WORDS:
        return _delete(ctx, rest)
    policy = _policy(ctx)
    _check_quota(ctx)
    recurring = parse_recurrence(stripped, default_time=policy.hour)
    if recurring is not None:
        rule, message = recurring
        first = rule.next_after(ctx.now.astimezone(ctx.tz))
        message = _check_text(message, when=stripped[: len(stripped) - len(message)].strip())
        r = store.create_reminder(
            ctx.db,
            room_id=ctx.room_id,
            text=message,
            created_by=ctx.sender,
            now=ctx.now,
            source_event_id=ctx.event_id,
            recurrence=recurrence_value(rule),
            mentions=_addressees(ctx, message),
        )
        confirmation = i18n.t(
            ctx.lang,
            "reminder.set_recurring",
            rule=rule.describe(ctx.lang),
            text=text(message),
            number=r.number,
            when=format_date(first.date(), ctx.lang),
        )
        return _with_note(confirmation, _quiet_note(ctx, policy, first, once=False))
    found = split_when_prefix(stripped, now=ctx.now.astimezone(ctx.tz))
    if found is None:
        raise CommandError("reminder.when_unclear", value=" ".join(stripped.split()[:4]))
    when, message = found
    consumed = stripped[: len(stripped) - len(message)].strip(" \t:;,-–—")
    moment = when.at(policy.hour, ctx.tz)
    exact = parse_duration(consumed) if fold(consumed).startswith("in ") else None
    if exact is not None and when.time is not None:
        # "in 20 Minuten": exactly then, not truncated to the minute.
        moment = ctx.now + exact
    message = _check_text(message, when=consumed)
    if moment <= ctx.now:
        raise CommandError("reminder.past", when=_when_text(ctx, moment))
    if moment > ctx.now + dt.timedelta(days=366 * MAX_YEARS_AHEAD):
        raise CommandError("reminder.too_far", when=_when_text(ctx, moment), years=MAX_YEARS_AHEAD)
    r = store.create_reminder(
        ctx.db,
        room_id=ctx.room_id,
        text=message,
        created_by=ctx.sender,
        now=ctx.now,
        source_event_id=ctx.event_id,
        due_at=moment,
        mentions=_addressees(ctx, message),
    )
    confirmation = i18n.t(
        ctx.lang,
        "reminder.set_once",
        when=_when_text(ctx, moment),
        text=text(message),
        number=r.number,
    )
    return _with_note(confirmation, _quiet_note(ctx, policy, moment))


def _target_reminder(ctx: Context, args: str, command: str) -> tuple[Reminder, str]:
    stripped = args.strip()
    head, _, rest = stripped.partition(" ")
    m = _NUMBER.fullmatch(fold(head)) if head else None
    if m:
        found = store.get_reminder(ctx.db, ctx.room_id, int(m[1]))
        if found is None:
            raise CommandError("reminder.no_such", number=int(m[1]))
        return found, rest.strip()
    if ctx.extra.get("ref_kind") == RefKind.REMINDER and ctx.extra.get("ref_id") is not None:
        ref = store.reminder_by_id(ctx.db, int(ctx.extra["ref_id"]))
        if ref is not None and ref.room_id == ctx.room_id:
            return ref, stripped
    if not head:
        raise UsageError("reminder.which", command=command)
    raise UsageError("reminder.not_a_number", value=head)


def may_change_reminder(ctx: Context, r: Reminder) -> bool:
    """Delete, pause, resume: whoever set it, the chair, the coordination."""
    return ctx.role >= Role.CHAIR or ctx.sender == r.created_by


def _require_may_change(ctx: Context, r: Reminder, *, addressees_too: bool = False) -> None:
    """Refuse everyone but its creator, the chair and the coordination; with
    `addressees_too` the people it mentions may too (`!später`: it only delays their own
    reminder, which deleting or pausing would take from everyone)."""
    if may_change_reminder(ctx, r):
        return
    if addressees_too and ctx.sender in reminder_mentions(r):
        return
    raise PermissionDenied(
        "reminder.not_yours", number=r.number, creator=ctx.display_name(r.created_by)
    )


def _delete(ctx: Context, args: str) -> Rich:
    r, _ = _target_reminder(ctx, args, "erinnere löschen" if ctx.lang != "en" else "remind delete")
    if r.status not in store.LIVE_STATUSES:
        raise CommandError("reminder.already_gone", number=r.number)
    _require_may_change(ctx, r)
    store.update_reminder(ctx.db, r, now=ctx.now, status=ReminderStatus.CANCELLED)
    return i18n.t(ctx.lang, "reminder.deleted", number=r.number, text=text(r.text))


@router.command("erinnerungen", aliases=("reminders",))
def list_reminders(ctx: Context, args: str) -> Rich:
    head, _, rest = args.strip().partition(" ")
    if head and fold(head) in _DELETE_WORDS:
        return _delete(ctx, rest)
    if head:
        raise UsageError()
    env = _env(ctx)
    _infos, items = collect_items(ctx.db, ctx.now, env, ctx.room_id, ahead_days=LIST_AHEAD_DAYS)
    handled = handled_keys(ctx.db, items)
    names = dict(ctx.members or {})
    lines: list[tuple[dt.datetime, Rich]] = []
    for item in items:
        occ = upcoming(item.occurrences, handled, ctx.now)
        if occ is None:
            continue
        lines.append((occ.at, _describe(ctx, item, occ, names)))
    lines.sort(key=lambda pair: pair[0])
    paused = store.room_reminders(ctx.db, ctx.room_id, statuses=(ReminderStatus.PAUSED,))
    if not lines and not paused:
        return i18n.t(ctx.lang, "reminder.list.empty")
    out: list[Rich] = [i18n.t(ctx.lang, "reminder.list.title")]
    for at, what in lines[:LIST_LIMIT]:
        out.append(i18n.t(ctx.lang, "reminder.list.line", when=_list_when(ctx, at), what=what))
    if len(lines) > LIST_LIMIT:
        out.append(i18n.t(ctx.lang, "reminder.list.more", count=len(lines) - LIST_LIMIT))
    for r in paused:
        rule = recurrence_of(r)
        out.append(
            i18n.t(
                ctx.lang,
                "reminder.list.paused",
                number=r.number,
                text=text(shorten(r.text, 80)),
                rule=rule.describe(ctx.lang) if rule else "",
            )
        )
    return Rich.join(out)


def _describe(ctx: Context, item: PlanItem, occ: Occurrence, names: Mapping[str, str]) -> Rich:
    lang = ctx.lang
    if item.kind == ReminderKind.DIGEST:
        return i18n.t(lang, "reminder.list.digest")
    if item.kind == RefKind.AGREEMENT:
        a = item.agreement
        assert a is not None
        people = item.owners or (a.created_by,)
        shown = name_list(people, names)
        key = {
            ReminderKind.BEFORE: "reminder.list.agreement_before",
            ReminderKind.DUE: "reminder.list.agreement_due",
            ReminderKind.OVERDUE: "reminder.list.agreement_overdue",
        }.get(occ.kind, "reminder.list.agreement_snooze")
        return i18n.t(
            lang,
            key,
            number=number_label(a.number),
            text=text(shorten(a.text, 80)),
            people=shown,
            index=occ.index,
        )
    r = item.reminder
    assert r is not None
    rule = recurrence_of(r)
    if rule is not None:
        return i18n.t(
            lang,
            "reminder.list.recurring",
            number=r.number,
            text=text(shorten(r.text, 80)),
            rule=rule.describe(lang),
        )
    return i18n.t(lang, "reminder.list.once", number=r.number, text=text(shorten(r.text, 80)))


def _is_time(ctx: Context, value: str) -> bool:
    return parse_duration(value) is not None or (
        parse_when(value, now=ctx.now.astimezone(ctx.tz)) is not None
    )


def _snooze_until(ctx: Context, value: str, policy: Policy) -> dt.datetime:
    cleaned = value.strip()
    if not cleaned:
        return ctx.now + DEFAULT_SNOOZE
    duration = parse_duration(cleaned)
    if duration is not None:
        if too_far_ahead((ctx.now + duration).date(), ctx.now.date()):
            raise CommandError("reminder.snooze_too_far", value=cleaned, years=YEARS_AHEAD_LIMIT)
        return ctx.now + duration
    when = parse_when(cleaned, now=ctx.now.astimezone(ctx.tz))
    if when is None:
        raise CommandError("reminder.snooze_unclear", value=cleaned)
    moment = when.at(policy.hour, ctx.tz)
    if moment <= ctx.now:
        raise CommandError("reminder.snooze_past", when=_when_text(ctx, moment))
    if too_far_ahead(when.date, ctx.now.date()):
        raise CommandError("reminder.snooze_too_far", value=cleaned, years=YEARS_AHEAD_LIMIT)
    return moment


@router.command("später", aliases=("snooze",))
def snooze(ctx: Context, args: str) -> Rich:
    policy = _policy(ctx)
    stripped = args.strip()
    ref_kind = ctx.extra.get("ref_kind")
    ref_id = ctx.extra.get("ref_id")
    head, _, rest = stripped.partition(" ")
    number = _NUMBER.fullmatch(fold(head)) if head else None
    # "!später 3 tage" as a reply: the whole text is the duration. "!später 4 3 tage": #4.
    whole_is_time = not stripped or _is_time(ctx, stripped)
    rest_is_time = not rest.strip() or _is_time(ctx, rest)
    has_ref = ref_kind in (RefKind.AGREEMENT, RefKind.REMINDER) and ref_id is not None
    agreement: Agreement | None = None
    if has_ref and whole_is_time and ref_id is not None:
        if ref_kind == RefKind.REMINDER:
            r = store.reminder_by_id(ctx.db, int(ref_id))
            if r is None or r.room_id != ctx.room_id:
                raise UsageError("reminder.snooze_which")
            return _snooze_reminder(ctx, r, stripped)
        agreement = agreement_store.by_id(ctx.db, int(ref_id))
        if agreement is None or agreement.room_id != ctx.room_id:
            raise UsageError("reminder.snooze_which")
        value = stripped
    elif number is not None and rest_is_time:
        agreement = _agreement_by_number(ctx, int(number[1]))
        value = rest
    elif has_ref:
        raise CommandError("reminder.snooze_unclear", value=stripped)
    elif whole_is_time or number is None:
        raise UsageError("reminder.snooze_which")
    else:
        raise CommandError("reminder.snooze_unclear", value=rest.strip())
    assert agreement is not None
    assert agreement.id is not None
    label = number_label(agreement.number)
    if agreement.status != AgreementStatus.OPEN:
        raise CommandError("reminder.snooze_closed", number=label)
    if not may_change(ctx, agreement, agreement_store.owners(ctx.db, agreement.id)):
        raise PermissionDenied("reminder.may_not_snooze", number=label)
    until = _snooze_until(ctx, value, policy)
    store.set_snooze(
        ctx.db,
        ref_kind=RefKind.AGREEMENT,
        ref_id=agreement.id,
        room_id=ctx.room_id,
        until=until,
        set_by=ctx.sender,
        now=ctx.now,
    )
    due = (
        format_date(agreement.due_date, ctx.lang)
        if agreement.due_date is not None
        else i18n.plain(ctx.lang, "agreement.due_none")
    )
    return i18n.t(
        ctx.lang,
        "reminder.snoozed_agreement",
        number=label,
        when=_when_text(ctx, next_allowed(until, policy)),
        due=due,
    )


def _agreement_by_number(ctx: Context, number: int) -> Agreement:
    found = agreement_store.by_number(ctx.db, ctx.room_id, number)
    if found is None:
        raise CommandError("reminder.no_agreement", number=number_label(number))
    return found


def _snooze_reminder(ctx: Context, r: Reminder, value: str) -> Rich:
    assert r.id is not None
    _require_may_change(ctx, r, addressees_too=True)
    if r.status == ReminderStatus.CANCELLED:
        raise CommandError("reminder.already_gone", number=r.number)
    policy = _policy(ctx)
    until = _snooze_until(ctx, value, policy)
    store.set_snooze(
        ctx.db,
        ref_kind=RefKind.REMINDER,
        ref_id=r.id,
        room_id=ctx.room_id,
        until=until,
        set_by=ctx.sender,
        now=ctx.now,
    )
    if r.status == ReminderStatus.DONE:
        store.update_reminder(ctx.db, r, now=ctx.now, status=ReminderStatus.ACTIVE)
    snoozed = i18n.t(
        ctx.lang, "reminder.snoozed_reminder", number=r.number, when=_when_text(ctx, until)
    )
    return _with_note(snoozed, _quiet_note(ctx, policy, until))


@router.command("pause")
def pause(ctx: Context, args: str) -> Rich:
    r, _ = _target_reminder(ctx, args, "pause")
    if r.status not in store.LIVE_STATUSES:
        raise CommandError("reminder.already_gone", number=r.number)
    if r.recurrence is None:
        raise CommandError("reminder.pause_once", number=r.number)
    _require_may_change(ctx, r)
    if r.status == ReminderStatus.PAUSED:
        raise CommandError("reminder.already_paused", number=r.number)
    store.update_reminder(ctx.db, r, now=ctx.now, status=ReminderStatus.PAUSED)
    return i18n.t(ctx.lang, "reminder.paused", number=r.number, text=text(r.text))


@router.command("weiter", aliases=("resume", "fortsetzen"))
def resume(ctx: Context, args: str) -> Rich:
    r, _ = _target_reminder(ctx, args, "weiter" if ctx.lang != "en" else "resume")
    if r.status != ReminderStatus.PAUSED:
        if r.status == ReminderStatus.ACTIVE:
            raise CommandError("reminder.not_paused", number=r.number)
        raise CommandError("reminder.already_gone", number=r.number)
    _require_may_change(ctx, r)
    store.update_reminder(
        ctx.db, r, now=ctx.now, status=ReminderStatus.ACTIVE, active_since=ctx.now
    )
    rule = recurrence_of(r)
    assert rule is not None
    return i18n.t(
        ctx.lang,
        "reminder.resumed",
        number=r.number,
        rule=rule.describe(ctx.lang),
        when=format_date(rule.next_after(ctx.now.astimezone(ctx.tz)).date(), ctx.lang),
    )
