"""The workflow's models, one module per area; import them from here."""

from .cases import Case
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

__all__ = [
    "Case",
    "InboxMessage",
    "MessageTemplate",
    "PrintJob",
    "Reminder",
    "ReminderRun",
    "ReminderStage",
    "ReminderStatus",
    "ReminderStrategy",
    "StageChannel",
]
