"""The reason codes a gate decision gives, with their labels for the UI.

The codes are stable: they are stored in the decision ledger, returned by the API and matched
by the reminder dispatcher. Add new ones; never rename or reuse one.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Reason(models.TextChoices):
    OUTSIDE_CONTACT_HOURS = "outside_contact_hours", _("Outside the contact hours")
    HOLIDAY = "holiday", _("Public holiday")
    DAILY_LIMIT = "daily_limit", _("Daily contact limit reached")
    ROLLING_LIMIT = "rolling_limit", _("Contact limit for the period reached")
    CONVERSATION_COOLDOWN = "conversation_cooldown", _("Too soon after a conversation")
    MIN_INTERVAL = "min_interval", _("Too soon after the previous attempt")
    NO_CONSENT = "no_consent", _("No recorded consent for this channel")
    CHANNEL_OPT_OUT = "channel_opt_out", _("The debtor opted out of this channel")
    CEASE_COMMUNICATION = "cease_communication", _("The debtor asked to cease communication")
    DISPUTE_HOLD = "dispute_hold", _("The debt is disputed")
    BANKRUPTCY_HOLD = "bankruptcy_hold", _("Bankruptcy")
    DECEASED = "deceased", _("The debtor is deceased")
    HARDSHIP_PAUSE = "hardship_pause", _("Hardship pause")
    INVALID_CONTACT_POINT = "invalid_contact_point", _("Invalid or wrong-party contact point")
    THIRD_PARTY_NOT_ALLOWED = "third_party_not_allowed", _("Third-party contact not allowed")
    DEBTOR_INCONVENIENT_TIME = "debtor_inconvenient_time", _("A time the debtor said does not suit")


# Reasons that no amount of waiting clears: while one of them blocks, there is no
# ``next_allowed_at``.
HOLD_REASONS = frozenset(
    {
        Reason.NO_CONSENT,
        Reason.CHANNEL_OPT_OUT,
        Reason.CEASE_COMMUNICATION,
        Reason.DISPUTE_HOLD,
        Reason.BANKRUPTCY_HOLD,
        Reason.DECEASED,
        Reason.HARDSHIP_PAUSE,
        Reason.INVALID_CONTACT_POINT,
        Reason.THIRD_PARTY_NOT_ALLOWED,
    }
)


def reason_label(code: str) -> str:
    """The translated label of a reason code (the code itself when unknown)."""
    try:
        return Reason(code).label
    except ValueError:
        return code
