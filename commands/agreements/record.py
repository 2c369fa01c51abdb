"""`!verabredung` / `!agree` / `!action`: record an agreement; ✅ on its confirmation closes it.

"!verabredung Entwurf Bildungsbericht an Schulamt @anna @ben bis nächsten Freitag" records
the next number of this room with Anna and Ben as owners and the Friday as due date, and
the reply restates what was understood. The reply carries the agreement (ref_kind/ref_id),
so a ✅ on it by an owner marks it done and a reply to it acts on it without a number.
"""

from __future__ import annotations

from commands.agreements.common import (
    TEXT_LIMIT,
    check_text,
    label_due_text,
    number,
    parse_due,
    user_text,
)
from commands.core import i18n
from commands.core.context import Context, command_hint
from commands.core.effects import Reply
from commands.core.errors import CommandError
from commands.core.names import pills
from commands.core.registry import Router
from commands.parsing.dates import split_deadline
from commands.parsing.mentions import require_in_room, take_mentions
from storage import agreements as store
from storage.models import Agreement, AgreementStatus, RefKind

router = Router()

# Reactions by an owner on the bot's message about an agreement that mean "done".
DONE_REACTIONS = {"✅", "✔️", "☑️", "👍", *("👍" + tone for tone in "🏻🏼🏽🏾🏿")}


@router.command("verabredung", aliases=("agree", "action"))
def record(ctx: Context, args: str) -> Reply:
    return confirmation(ctx, *record_agreement(ctx, args))


def record_agreement(
    ctx: Context, args: str, *, empty_key: str = "agreement.empty_text"
) -> tuple[Agreement, list[str]]:
    """Record what `args` says as `!verabredung` reads it (text, @owners, "bis <wann>");
    the agreement and its owners. Also what other commands record an agreement with
    (`!auswertung maßnahme`); `empty_key`: the refusal of an empty text."""
    # Refuse a huge text before any parsing; the stored text is checked again below.
    if len(args) > 2 * TEXT_LIMIT:
        raise CommandError("agreement.too_long", length=len(args.strip()), limit=TEXT_LIMIT)
    found = take_mentions(ctx, args)
    require_in_room(ctx, found.user_ids)
    body, when_text = split_deadline(found.text, now=ctx.now)
    text = check_text(body, empty_key=empty_key)
    when = parse_due(ctx, when_text) if when_text is not None else None
    owners = list(found.user_ids) or [ctx.sender]
    agreement, created = store.record(
        ctx.db,
        room_id=ctx.room_id,
        text=text,
        owners=owners,
        due_date=when.date if when else None,
        due_time=when.time if when else None,
        actor=ctx.sender,
        at=ctx.now,
        source_event_id=ctx.event_id,
    )
    # A replayed event gets the same confirmation, of the agreement it recorded the first
    # time; a new one has the owners just stored, in their order, without reading them back.
    return agreement, owners if created else store.owners(ctx.db, _id(agreement))


def confirmation(ctx: Context, a: Agreement, owners: list[str]) -> Reply:
    rich = i18n.t(
        ctx.lang,
        "agreement.recorded",
        number=number(a),
        text=user_text(a.text),
        owners=pills(owners, ctx.members),
        due=label_due_text(ctx, a.due_date, a.due_time),
        cmd=command_hint(ctx, "erledigt", "done", a.number),
    )
    return Reply(rich, in_reply_to=ctx.event_id, ref_kind=RefKind.AGREEMENT, ref_id=a.id)


def _id(a: Agreement) -> int:
    assert a.id is not None
    return a.id


@router.reaction(RefKind.AGREEMENT, DONE_REACTIONS)
def done_by_reaction(ctx: Context, key: str, ref_id: int) -> Reply | None:
    """An owner's ✅ (or 👍) marks it done; anyone else's reaction is just a reaction."""
    a = store.by_id(ctx.db, ref_id)
    if a is None or a.room_id != ctx.room_id or a.status != AgreementStatus.OPEN:
        return None
    if ctx.sender not in store.owners(ctx.db, _id(a)):
        return None
    store.set_status(
        ctx.db, a, AgreementStatus.DONE, actor=ctx.sender, at=ctx.now, source_event_id=ctx.event_id
    )
    rich = i18n.t(
        ctx.lang,
        "agreement.done_by_reaction",
        number=number(a),
        name=ctx.display_name(ctx.sender),
        text=user_text(a.text),
    )
    # A reaction is no message to reply to: the answer stands on its own.
    return Reply(rich, ref_kind=RefKind.AGREEMENT, ref_id=a.id)
