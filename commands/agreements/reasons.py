"""`!grund N …` / `!reason N …`: the one-line reason why an agreement is late.

The owners are asked for it once, with the first overdue reminder (commands.reminders.plan);
it may also be given ahead, when a delay is foreseeable. The latest reason stands on the
agreement (`!zeige`, the minutes, the follow-up agenda, the reports and exports), every
one in its history. `!grund N` alone shows it.
"""

from __future__ import annotations

from commands.agreements.common import (
    date_text,
    names,
    number,
    target,
    user_text,
)
from commands.core import i18n
from commands.core.context import Context, Role, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError, PermissionDenied
from commands.core.registry import Router
from commands.core.rich import Rich
from commands.core.text_input import one_line_text
from storage import agreements as store
from storage.figures.agreements import is_overdue
from storage.models import Agreement, AgreementStatus, HistoryAction, RefKind

router = Router()

# One line, as a Beschlusskontrolle's "reason" column holds it.
REASON_LIMIT = 300
EXAMPLE = {"de": "Zahlen des Landesamts kommen erst im Januar", "en": "figures arrive in January"}


def _about(ctx: Context, a: Agreement, rich: Rich) -> Reply:
    """A reply about `a`: answering it acts on `a` again."""
    return Reply(rich, in_reply_to=ctx.event_id, ref_kind=RefKind.AGREEMENT, ref_id=a.id)


def _example(ctx: Context, a: Agreement) -> Rich:
    return command_hint(
        ctx, "grund", "reason", a.number, EXAMPLE["en" if ctx.lang == "en" else "de"]
    )


def may_give_reason(ctx: Context, a: Agreement, owners: list[str]) -> bool:
    """The owners (without any: whoever recorded it, whom the reminders ask), chair and
    coordination."""
    if ctx.role >= Role.CHAIR or ctx.sender in owners:
        return True
    return not owners and ctx.sender == a.created_by


@router.command("grund", aliases=("reason",))
def reason(ctx: Context, args: str) -> Reply:
    a, rest = target(ctx, args)
    assert a.id is not None
    if not rest.strip():
        return _about(ctx, a, _show(ctx, a))
    if a.status == AgreementStatus.DONE:
        raise CommandError("reason.is_done", number=number(a))
    if a.status == AgreementStatus.CANCELLED:
        raise CommandError("reason.is_cancelled", number=number(a))
    owners = store.owners(ctx.db, a.id)
    if not may_give_reason(ctx, a, owners):
        who = owners or [a.created_by]
        raise PermissionDenied("reason.may_not", number=number(a), owners=names(ctx, who))
    given = _checked(ctx, a, rest)
    if a.delay_reason == given:
        return _about(ctx, a, i18n.t(ctx.lang, "reason.unchanged", number=number(a)))
    store.set_reason(ctx.db, a, given, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id)
    rich = i18n.t(
        ctx.lang,
        "reason.saved",
        number=number(a),
        reason=user_text(given),
        cmd=command_hint(ctx, "zeige", "show", a.number),
    )
    if is_overdue(a, ctx.now.astimezone(ctx.tz)):
        # A reason explains the delay; a new date tells when it ends.
        when = "next friday" if ctx.lang == "en" else "nächsten Freitag"
        new_due = command_hint(ctx, "frist", "due", a.number, when)
        rich = rich + "\n" + i18n.t(ctx.lang, "reason.new_due", cmd=new_due)
    return _about(ctx, a, rich)


def _checked(ctx: Context, a: Agreement, value: str) -> str:
    # "…" copied from the reminder's example, or nothing but punctuation: no reason yet.
    return one_line_text(value.strip(), REASON_LIMIT, "reason", _example(ctx, a))


def _show(ctx: Context, a: Agreement) -> Rich:
    assert a.id is not None
    if a.delay_reason is None:
        lines = [i18n.t(ctx.lang, "reason.none", number=number(a))]
        if a.status == AgreementStatus.OPEN:
            lines.append(i18n.t(ctx.lang, "reason.how", cmd=_example(ctx, a)))
        return Rich.join(lines)
    given = [h for h in store.history(ctx.db, a.id) if h.action == HistoryAction.REASON]
    latest = given[-1] if given else None
    if latest is None:  # a reason without its history row (restored by hand): no "by whom"
        return i18n.t(
            ctx.lang, "reason.shown_bare", number=number(a), reason=user_text(a.delay_reason)
        )
    return i18n.t(
        ctx.lang,
        "reason.shown",
        number=number(a),
        reason=user_text(a.delay_reason),
        name=ctx.display_name(latest.actor),
        date=date_text(ctx, latest.at),
    )
