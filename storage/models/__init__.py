"""Every table of the bot, one module per family; importing this package registers them all
on SQLModel's metadata (Alembic's env and the tests rely on that)."""

from storage.models.agreements import (
    Agreement,
    AgreementHistory,
    AgreementOwner,
    AgreementStatus,
    HistoryAction,
)
from storage.models.desk import MemberOffice, ReportLog, RulesText
from storage.models.direct import DirectRoom
from storage.models.events import ProcessedEvent, SyncState
from storage.models.meetings import (
    AttendanceStatus,
    Meeting,
    MeetingAgenda,
    MeetingAttendee,
    MeetingPlan,
)
from storage.models.outbox import OutboxFile, OutboxKind, OutboxMessage, OutboxStatus, RefKind
from storage.models.polls import (
    Poll,
    PollKind,
    PollVote,
    Survey,
    SurveyComment,
    SurveyParticipant,
)
from storage.models.procedure import (
    AgendaKind,
    AgendaRequest,
    Decision,
    DecisionKind,
    DecisionOutcome,
    MinutesObjection,
    ProcedureRules,
    VotingMember,
)
from storage.models.reminders import (
    LogStatus,
    Reminder,
    ReminderKind,
    ReminderLog,
    ReminderSnooze,
    ReminderStatus,
    SchedulerLease,
)
from storage.models.rooms import Room, RoomRole, RoomSetting

__all__ = [
    "AgendaKind",
    "AgendaRequest",
    "Agreement",
    "AgreementHistory",
    "AgreementOwner",
    "AgreementStatus",
    "AttendanceStatus",
    "Decision",
    "DecisionKind",
    "DecisionOutcome",
    "DirectRoom",
    "HistoryAction",
    "LogStatus",
    "Meeting",
    "MeetingAgenda",
    "MeetingAttendee",
    "MeetingPlan",
    "MemberOffice",
    "MinutesObjection",
    "OutboxFile",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "Poll",
    "PollKind",
    "PollVote",
    "ProcedureRules",
    "ProcessedEvent",
    "RefKind",
    "Reminder",
    "ReminderKind",
    "ReminderLog",
    "ReminderSnooze",
    "ReminderStatus",
    "ReportLog",
    "Room",
    "RoomRole",
    "RoomSetting",
    "RulesText",
    "SchedulerLease",
    "Survey",
    "SurveyComment",
    "SurveyParticipant",
    "SyncState",
    "VotingMember",
]
