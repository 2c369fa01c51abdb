"""`!sitzung start [titel]`, `!sitzung ende`, `!sitzung protokoll [N] [pdf]`, `!sitzung
liste`; and who took part: the roll call's answers (commands.procedure.attendance), and
everyone who wrote or reacted in the room while the meeting ran.

`!sitzung protokoll N pdf` sends the minutes as a PDF to sign and file, made after the
command by the file job MINUTES_PDF_JOB (commands.papers.minutes declares it)."""

from __future__ import annotations

import re

from commands.core import i18n
from commands.core.context import Context, command_hint
from commands.core.effects import LaterFile, Reply
from commands.core.errors import CommandError, UsageError
from commands.core.file_jobs import PDF_MIMETYPE, FileJob, file_name
from commands.core.listeners import Activity, only_while
from commands.core.registry import Router, fold
from commands.core.rich import Rich, text
from commands.core.room_names import room_label
from commands.meetings.common import TITLE_LIMIT, command, moment_text, require_chair
from commands.meetings.minutes import Gathering, gather, period, render
from commands.procedure.agenda import take_up
from commands.procedure.common import room_rules, voters
from commands.procedure.minutes_approval import status_line
from storage import meetings as store
from storage import rooms
from storage.models import AttendanceStatus, Meeting, RefKind

router = Router()

# `!sitzung liste` shows this many meetings, newest first.
LISTED = 10
_NUMBER = re.compile(r"(?:nr\.?\s*|#)?([0-9]{1,12})\.?", re.IGNORECASE)
# `!sitzung protokoll 3 pdf`: the word (first or last), and the file job that makes it.
PDF_WORD = "pdf"
MINUTES_PDF_JOB = "minutes-pdf"


@router.listener()
@only_while(store.ran_at)
def note_attendance(activity: Activity) -> None:
    """Whoever writes or reacts while a meeting runs took part in it."""
    meeting = store.running_at(activity.db, activity.room_id, activity.at)
    if meeting is not None and meeting.id is not None:
        store.note_attendee(
            activity.db, meeting.id, activity.sender, activity.display_name, activity.at
        )


def _about(ctx: Context, m: Meeting, rich: Rich) -> Reply:
    return Reply(rich, in_reply_to=ctx.event_id, ref_kind=RefKind.MEETING, ref_id=m.id)


def start(ctx: Context, title_text: str) -> Reply:
    require_chair(ctx)
    title = " ".join(title_text.split()) or None
    if title is not None and len(title) > TITLE_LIMIT:
        raise CommandError("meeting.title_too_long", length=len(title), limit=TITLE_LIMIT)
    already = store.by_source_event(ctx.db, ctx.event_id)
    running = store.running(ctx.db, ctx.room_id)
    if running is not None and running is not already:
        raise CommandError(
            "meeting.already_running",
            number=running.number,
            since=moment_text(ctx, running.started_at),
            cmd=command(ctx, "ende", "end"),
        )
    meeting, _created = store.start(
        ctx.db,
        room_id=ctx.room_id,
        title=title,
        by=ctx.sender,
        at=ctx.now,
        source_event_id=ctx.event_id,
    )
    assert meeting.id is not None
    # Whoever opens the meeting is there: the roll call starts with them.
    store.set_status(
        ctx.db,
        meeting.id,
        ctx.sender,
        ctx.display_name(ctx.sender),
        AttendanceStatus.PRESENT,
        ctx.now,
    )
    rich = i18n.t(
        ctx.lang,
        "meeting.started_named" if title else "meeting.started",
        number=meeting.number,
        title=text(title or ""),
        present=command_hint(ctx, "anwesend", "present"),
        present_other=command_hint(ctx, "anwesend @name", "present @name"),
        excused=command_hint(ctx, "entschuldigt @name", "excused @name"),
        quorum=command_hint(ctx, "beschlussfähig", "quorum"),
        cmd=command(ctx, "ende", "end"),
    )
    return _about(ctx, meeting, rich)


def end(ctx: Context, rest: str) -> Reply:
    require_chair(ctx)
    if rest.strip():
        raise UsageError("meeting.end_takes_nothing")
    meeting = store.running(ctx.db, ctx.room_id)
    if meeting is None:
        raise CommandError("meeting.none_running", cmd=command(ctx, "start", "start"))
    assert meeting.id is not None
    # Whoever closes the meeting is there, unless they answered the roll call otherwise.
    if store.status_of(ctx.db, meeting.id, ctx.sender) is None:
        store.set_status(
            ctx.db,
            meeting.id,
            ctx.sender,
            ctx.display_name(ctx.sender),
            AttendanceStatus.PRESENT,
            ctx.now,
        )
    # The minutes end with the command: what it was sent after is not part of them.
    ended_at = max(ctx.now, meeting.started_at)
    meeting.ended_at = ended_at
    gathering = Gathering(
        ctx.db,
        meeting,
        ctx.members or {},
        voting=tuple(voters(ctx.db, ctx.room_id, ctx.members, ctx.bot_user)),
        rules=room_rules(ctx.db, ctx.room_id, ctx.defaults),
    )
    facts = gather(gathering, ctx.tz)
    store.end(ctx.db, meeting, by=ctx.sender, at=ended_at, minutes=facts)
    take_up(ctx.db, meeting, at=ended_at, day=ended_at.astimezone(ctx.tz).date())
    return _about(ctx, meeting, render(facts, ctx.lang, status_line(ctx, meeting)))


def minutes(ctx: Context, rest: str) -> Reply | LaterFile:
    words = rest.split()
    pdf = bool(words) and PDF_WORD in (fold(words[0]), fold(words[-1]))
    if pdf:
        words = words[1:] if fold(words[0]) == PDF_WORD else words[:-1]
    wanted = " ".join(words)
    if not wanted:
        found = store.latest(ctx.db, ctx.room_id)
        if not found:
            raise CommandError("meeting.none_yet", cmd=command(ctx, "start", "start"))
        meeting = found[0]
    else:
        m = _NUMBER.fullmatch(wanted)
        if m is None:
            raise UsageError("meeting.not_a_number", value=wanted)
        meeting_or_none = store.by_number(ctx.db, ctx.room_id, int(m[1]))
        if meeting_or_none is None:
            raise CommandError(
                "meeting.no_such",
                number=m[1].lstrip("0") or "0",
                count=store.count(ctx.db, ctx.room_id),
                cmd=command(ctx, "liste", "list"),
            )
        meeting = meeting_or_none
    if meeting.minutes is None:
        raise CommandError(
            "meeting.still_running",
            number=meeting.number,
            since=moment_text(ctx, meeting.started_at),
            cmd=command(ctx, "ende", "end"),
        )
    if pdf:
        return _minutes_pdf(ctx, meeting)
    return _about(ctx, meeting, render(meeting.minutes, ctx.lang, status_line(ctx, meeting)))


def _minutes_pdf(ctx: Context, meeting: Meeting) -> LaterFile:
    """The minutes as a PDF, for everyone who may read them in the chat."""
    lang, number = ctx.lang, meeting.number
    # Named by the room's name, or its ID (unnamed rooms' labels would all be alike).
    kind = i18n.plain(lang, "papers_reports.minutes.filename", number=number)
    params = {
        "room": ctx.room_id,
        "number": number,
        "lang": lang,
        # The room's own zone is read from the database; this one where none is set.
        "default_tz": ctx.defaults.timezone,
        "now": ctx.now.isoformat(),
    }
    room = room_label(ctx.db, ctx.room_id, lang)
    return LaterFile(
        filename=file_name(kind, rooms.room_label(ctx.db, ctx.room_id), extension="pdf"),
        mimetype=PDF_MIMETYPE,
        job=FileJob(MINUTES_PDF_JOB, params, lang=lang),
        caption=i18n.t(lang, "papers_reports.minutes.caption", number=number, room=room),
        ref_kind=RefKind.MEETING,
        ref_id=meeting.id,
    )


def listing(ctx: Context, rest: str) -> Rich:
    if rest.strip():
        raise UsageError("meeting.list_takes_nothing")
    found = store.latest(ctx.db, ctx.room_id, limit=LISTED)
    if not found:
        return i18n.t(ctx.lang, "meeting.list.empty", cmd=command(ctx, "start", "start"))
    lines = [i18n.t(ctx.lang, "meeting.list.title")]
    for m in found:
        start_local = m.started_at.astimezone(ctx.tz)
        if m.ended_at is None:
            when = i18n.plain(
                ctx.lang, "meeting.list.running", since=moment_text(ctx, m.started_at)
            )
        else:
            when = period(start_local, m.ended_at.astimezone(ctx.tz), ctx.lang)
        key = "meeting.list.line_named" if m.title else "meeting.list.line"
        lines.append(i18n.t(ctx.lang, key, number=m.number, when=when, title=text(m.title or "")))
    total = store.count(ctx.db, ctx.room_id)
    if total > len(found):
        lines.append(i18n.t(ctx.lang, "meeting.list.more", count=total - len(found)))
    last = found[0].number
    hint = command(ctx, f"protokoll {last}", f"minutes {last}")
    lines.append(i18n.t(ctx.lang, "meeting.list.hint", cmd=hint))
    return Rich.join(lines)
