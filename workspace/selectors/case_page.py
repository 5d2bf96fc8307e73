"""What the case page reads besides the loans (``debtors.selectors.debtor_loans``) and the
timeline (``workspace.selectors.timeline``): callbacks, and the call bar's facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from cases.models import Callback
from compliance.rules import Window
from compliance.selectors import channel_rules_for
from compliance.zones import candidate_zones, zone
from debtors.models import Channel, ContactPoint, Debtor


def open_callbacks(debtor: Debtor) -> list[Callback]:
    return list(
        Callback.objects.filter(debtor=debtor, status=Callback.Status.OPEN)
        .select_related("assigned_to")
        .order_by("due_at")[:20]
    )


@dataclass
class CallBar:
    """What a collector needs in view while calling: the debtor's time where they are (every
    zone they may be in), the hours the policy allows calls in, and, once the gate allowed a
    call, the number to dial."""

    local_times: list[tuple[str, dt.datetime]] = field(default_factory=list)
    windows: list[str] | None = None  # None: any time of day
    no_calls_on_holidays: bool = False
    dial: ContactPoint | None = None


def call_bar(
    debtor: Debtor, contact_points: list[ContactPoint], *, pending, now: dt.datetime
) -> CallBar:
    try:
        zones = candidate_zones(debtor, contact_points)
    except ValidationError:
        zones = []
    rules = channel_rules_for(debtor, Channel.CALL)
    dial = next((a.contact_point for a in pending if a.contact_point_id), None)
    return CallBar(
        local_times=[(name, now.astimezone(zone(name))) for name in zones],
        windows=None if rules is None or rules.windows is None else windows_text(rules.windows),
        no_calls_on_holidays=bool(rules and rules.no_contact_on_holidays),
        dial=dial,
    )


def windows_text(windows: tuple[Window, ...]) -> list[str]:
    """Contact windows in words, days with the same hours together: ``Mon–Fri 08:00–21:00``."""
    if not windows:
        return [_("never")]
    hours: dict[tuple[dt.time, dt.time], set[int]] = {}
    for window in windows:
        hours.setdefault((window.start, window.end), set()).update(window.weekdays)
    return [
        f"{_days_text(sorted(days))} {start:%H:%M}–{end:%H:%M}"
        for (start, end), days in sorted(hours.items(), key=lambda item: min(item[1]))
    ]


def _days_text(days: list[int]) -> str:
    """Weekdays (0 = Monday) as runs: ``Mon–Fri``, ``Mon, Wed, Sat–Sun``."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        str(WEEKDAYS_ABBR[run[0]])
        if len(run) == 1
        else f"{WEEKDAYS_ABBR[run[0]]}–{WEEKDAYS_ABBR[run[-1]]}"
        for run in runs
    )
