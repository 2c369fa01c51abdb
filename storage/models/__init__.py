"""Every table of the bot, one module per family; importing this package registers them all
on SQLModel's metadata (Alembic's env and the tests rely on that)."""

from storage.models.agreements import Agreement, AgreementHistory, AgreementOwner
from storage.models.direct import DirectRoom
from storage.models.events import ProcessedEvent, SyncState
from storage.models.outbox import OutboxFile, OutboxMessage
from storage.models.reminders import Reminder, ReminderLog, ReminderSnooze, SchedulerLease
from storage.models.rooms import Room, RoomRole, RoomSetting

__all__ = [
    "Agreement",
    "AgreementHistory",
    "AgreementOwner",
    "DirectRoom",
    "OutboxFile",
    "OutboxMessage",
    "ProcessedEvent",
    "Reminder",
    "ReminderLog",
    "ReminderSnooze",
    "Room",
    "RoomRole",
    "RoomSetting",
    "SchedulerLease",
    "SyncState",
]
