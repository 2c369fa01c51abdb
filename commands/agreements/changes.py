"""Changing an agreement: `!erledigt`, `!wieder`, `!zuweisen`, `!frist`, `!ändern`,
`!verwerfen`, `!notiz` (and done, reopen, assign, due, edit, cancel, note).

Each takes the agreement's number first; as a reply to the bot's message about an agreement
the number may be left out. Every change is one history row; nothing is deleted.
"""

from __future__ import annotations

from commands.agreements.common import (
    check_text,
    date_text,
    due_text,
    is_no_due,
    label_due_text,
    names,
    number,
    parse_due,
    require_may_change,
    target,
    user_text,
)
from commands.core import i18n
from commands.core.context import Context, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError, UsageError
from commands.core.names import pills
from commands.core.registry import Router
from commands.core.rich import Rich
from commands.parsing.mentions import require_in_room, take_mentions
from storage import agreements as store
from storage.models import Agreement, AgreementStatus, RefKind

router = Router()


def _about(ctx: Context, a: Agreement, rich: Rich) -> Reply:
    """A reply about `a`: reacting to it or answering it acts on `a` again."""
    return Reply(rich, in_reply_to=ctx.event_id, ref_kind=RefKind.AGREEMENT, ref_id=a.id)


def _owners(ctx: Context, a: Agreement) -> list[str]:
    assert a.id is not None
    return store.owners(ctx.db, a.id)


def _with_line(ctx: Context, rich: Rich, key: str, **values: object) -> Rich:
    return rich + "\n" + i18n.t(ctx.lang, key, **values)


@router.command("erledigt", aliases=("done",))
def done(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    require_may_change(ctx, a, _owners(ctx, a))
    if a.status == AgreementStatus.DONE:
        since = date_text(ctx, a.closed_at or a.updated_at)
        raise CommandError("agreement.already_done", number=number(a), date=since)
    if a.status == AgreementStatus.CANCELLED:
        raise CommandError(
            "agreement.is_cancelled",
            number=number(a),
            cmd=command_hint(ctx, "wieder", "reopen", a.number),
        )
    note = check_text(rest, empty_key="agreement.note_empty") if rest.strip() else None
    store.set_status(
        ctx.db,
        a,
        AgreementStatus.DONE,
        actor=ctx.sender,
        at=ctx.now,
        note=note,
        source_event_id=ctx.event_id,
    )
    rich = i18n.t(ctx.lang, "agreement.done", number=number(a), text=user_text(a.text))
    if note:
        rich = _with_line(ctx, rich, "agreement.note_line", note=user_text(note))
    return _about(ctx, a, rich)


@router.command("wieder", aliases=("reopen",))
def reopen(ctx: Context, args: str) -> Reply:
    a, _rest = target(ctx, args)
    owners = _owners(ctx, a)
    require_may_change(ctx, a, owners)
    if a.status == AgreementStatus.OPEN:
        raise CommandError("agreement.already_open", number=number(a))
    store.set_status(
        ctx.db, a, AgreementStatus.OPEN, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id
    )
    rich = i18n.t(
        ctx.lang,
        "agreement.reopened",
        number=number(a),
        text=user_text(a.text),
        owners=names(ctx, owners),
        due=label_due_text(ctx, a.due_date, a.due_time),
    )
    return _about(ctx, a, rich)


@router.command("zuweisen", aliases=("assign",))
def assign(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    owners = _owners(ctx, a)
    require_may_change(ctx, a, owners)
    found = take_mentions(ctx, rest)
    if not found.user_ids:
        raise UsageError("agreement.assign_nobody")
    require_in_room(ctx, found.user_ids)
    new = list(found.user_ids)
    if new == owners:
        raise CommandError("agreement.assign_same", number=number(a), owners=names(ctx, owners))
    store.set_owners(ctx.db, a, new, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id)
    rich = i18n.t(
        ctx.lang,
        "agreement.assigned",
        number=number(a),
        owners=pills(new, ctx.members),  # the new owners are notified
        text=user_text(a.text),
    )
    return _about(ctx, a, rich)


@router.command("frist", aliases=("due",))
def due(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    require_may_change(ctx, a, _owners(ctx, a))
    if not rest.strip():
        raise UsageError("agreement.due_missing")
    if is_no_due(rest):
        new_date, new_time = None, None
    else:
        when = parse_due(ctx, rest)
        new_date, new_time = when.date, when.time
    if (new_date, new_time) == (a.due_date, a.due_time):
        if a.due_date is None:
            raise CommandError("agreement.due_same_none", number=number(a))
        raise CommandError(
            "agreement.due_same", number=number(a), due=due_text(ctx, a.due_date, a.due_time)
        )
    old = label_due_text(ctx, a.due_date, a.due_time)
    store.set_due(
        ctx.db, a, new_date, new_time, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id
    )
    rich = i18n.t(
        ctx.lang,
        "agreement.due_set",
        number=number(a),
        due=label_due_text(ctx, new_date, new_time),
        old=old,
        text=user_text(a.text),
    )
    return _about(ctx, a, rich)


@router.command("ändern", aliases=("edit",))
def edit(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    require_may_change(ctx, a, _owners(ctx, a))
    new = check_text(rest, empty_key="agreement.edit_empty")
    if new == a.text:
        raise CommandError("agreement.edit_same", number=number(a))
    store.set_text(ctx.db, a, new, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id)
    rich = i18n.t(ctx.lang, "agreement.edited", number=number(a), text=user_text(new))
    return _about(ctx, a, rich)


@router.command("verwerfen", aliases=("cancel",))
def cancel(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    require_may_change(ctx, a, _owners(ctx, a))
    if a.status == AgreementStatus.CANCELLED:
        raise CommandError("agreement.already_cancelled", number=number(a))
    reason = check_text(rest) if rest.strip() else None
    store.set_status(
        ctx.db,
        a,
        AgreementStatus.CANCELLED,
        actor=ctx.sender,
        at=ctx.now,
        note=reason,
        source_event_id=ctx.event_id,
    )
    rich = i18n.t(ctx.lang, "agreement.cancelled", number=number(a), text=user_text(a.text))
    if reason:
        rich = _with_line(ctx, rich, "agreement.reason_line", reason=user_text(reason))
    return _about(ctx, a, rich)


@router.command("notiz", aliases=("note",))
def note(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    text = check_text(rest, empty_key="agreement.note_empty")
    store.add_note(ctx.db, a, text, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id)
    rich = i18n.t(ctx.lang, "agreement.noted", number=number(a), note=user_text(text))
    return _about(ctx, a, rich)
