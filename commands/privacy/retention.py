"""The daily retention job: once a day, at the first wake-up after `retention.hour`, what
is older than the configured periods is deleted or anonymised (`storage.retention`).

The day of the last run is kept in the bot's machine state (`sync_state`), so a restart
does not run it twice and a bot that was down runs it at its first wake-up. It asks for no
wake-up of its own: the scheduler looks at every timer at least hourly
(`bot.runtime.scheduler.MAX_SLEEP`), so the job runs within the hour after `hour`.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel import Session

from commands.core.registry import Router
from commands.core.timers import TimerEnv, TimerResult
from commands.privacy.config import retention_settings
from storage import events, retention

log = logging.getLogger(__name__)

router = Router()

LAST_RUN = "retention:last_day"


@router.timer("retention")
def daily_retention(
    db: Session, now: dt.datetime, env: TimerEnv, room_id: str | None
) -> TimerResult:
    result = TimerResult()
    # A command's poke of one room concerns that room's reminders, not this.
    if room_id is not None:
        return result
    settings = retention_settings(env.defaults)
    local = now.astimezone(env.defaults.zone)
    today = local.date()
    if local.hour < settings.hour or events.get_state(db, LAST_RUN) == today.isoformat():
        return result
    purged = retention.purge(db, now, settings.policy)
    events.set_state(db, LAST_RUN, today.isoformat())
    if purged.total:
        log.info("retention: %s", "; ".join(purged.lines()))
    return result
