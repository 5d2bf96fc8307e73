"""The workflow's models, one module per area; import them from here."""

from .cases import Case
from .imports import IdempotencyKey, ImportIssue, ImportJob, ImportKind, ImportRejectedRow
from .portal import (
    PortalDispute,
    PortalEvent,
    PortalFeedback,
    PortalLink,
    PortalPlanRequest,
    PortalSettings,
)
from .reminders import (
    InboxMessage,
    MessageTemplate,
    PrintJob,
    Reminder,
    ReminderRun,
    ReminderStage,
    ReminderStatus,
    ReminderStrategy,
    StageChannel,
)
from .workspace import (
    Callback,
    CallDisposition,
    DispositionCode,
    Note,
    QueueWeights,
    RevealLog,
)

__all__ = [
    "CallDisposition",
    "Callback",
    "Case",
    "IdempotencyKey",
    "ImportIssue",
    "ImportJob",
    "ImportKind",
    "ImportRejectedRow",
    "InboxMessage",
    "MessageTemplate",
    "PortalDispute",
    "PortalEvent",
    "PortalFeedback",
    "PortalLink",
    "PortalPlanRequest",
    "PortalSettings",
    "PrintJob",
    "Reminder",
    "ReminderRun",
    "ReminderStage",
    "ReminderStatus",
    "ReminderStrategy",
    "StageChannel",
    "DispositionCode",
    "Note",
    "QueueWeights",
    "RevealLog",
]
