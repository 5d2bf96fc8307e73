"""The dates that make sense for what they mean, and instants safe to hand to PostgreSQL.

Every date a user or an integration gives is checked against the range its meaning allows,
by the service that stores it, so the API, the pages, the portal and the imports refuse the
same dates with the same message (a 400, or a form error, naming the field):

* a promise to pay: today to ``PROMISE_MAX_DAYS_AHEAD`` days ahead (365);
* a repayment plan's first installment: today to one year ahead; its last: within ten years;
* an installment's due date: 1900 to 50 years ahead;
* a date of birth: 1900 to today.

Query filters take any date Python can hold: ``as_utc`` turns an instant with any offset into
UTC, the only offsets PostgreSQL accepts being within ±16 hours, and ``day_end`` never
overflows at the end of the calendar.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

EARLIEST = dt.date(1900, 1, 1)
UTC_MIN = dt.datetime.min.replace(tzinfo=dt.UTC)
UTC_MAX = dt.datetime.max.replace(tzinfo=dt.UTC)


def years_later(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (28 February for a 29 February), at most the calendar's
    last day."""
    year = min(day.year + years, dt.date.max.year)
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a common year
        return day.replace(year=year, day=28)


def days_later(day: dt.date, days: int) -> dt.date:
    """``day`` plus ``days``, at most the calendar's last day (a date stored before its range
    was checked must not stop a job)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def check_range(
    value: dt.date, *, field: str | None, earliest: dt.date, latest: dt.date
) -> dt.date:
    """``value`` when it lies from ``earliest`` to ``latest`` (both included), else a
    ValidationError naming the range, under ``field`` (none: a model field's validator)."""
    if not isinstance(value, dt.date):
        message = _("This is not a date.")
    else:
        if isinstance(value, dt.datetime):
            value = value.date()
        if earliest <= value <= latest:
            return value
        message = _("%(value)s is outside the dates allowed here, %(earliest)s to %(latest)s.") % {
            "value": value.isoformat(),
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
        }
    raise ValidationError({field: message} if field else message, code="date_out_of_range")


def promise_date(value: dt.date, *, today: dt.date, field: str = "promised_date") -> dt.date:
    latest = today + dt.timedelta(days=settings.PROMISE_MAX_DAYS_AHEAD)
    return check_range(value, field=field, earliest=today, latest=latest)


def plan_first_date(value: dt.date, *, today: dt.date, field: str = "first_date") -> dt.date:
    return check_range(value, field=field, earliest=today, latest=years_later(today, 1))


def plan_last_date(value: dt.date, *, today: dt.date, field: str = "installments") -> dt.date:
    return check_range(value, field=field, earliest=EARLIEST, latest=years_later(today, 10))


def due_date(value: dt.date, *, today: dt.date, field: str = "due_date") -> dt.date:
    return check_range(value, field=field, earliest=EARLIEST, latest=years_later(today, 50))


def birth_date(value: dt.date, *, today: dt.date, field: str | None = "date_of_birth") -> dt.date:
    return check_range(value, field=field, earliest=EARLIEST, latest=today)


def as_utc(instant: dt.datetime) -> dt.datetime:
    """An aware instant in UTC; one beyond the calendar's ends in UTC (the first day's early
    hours east of Greenwich, the last day's late hours west) becomes that end."""
    try:
        return instant.astimezone(dt.UTC)
    except OverflowError:
        return UTC_MIN if instant.year == dt.MINYEAR else UTC_MAX


def day_end(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The instant ``day`` ends (the next day's midnight) in ``zone`` (the current time zone by
    default), in UTC; the calendar's last day ends at its last instant."""
    if day >= dt.date.max:
        return UTC_MAX
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
    return as_utc(midnight.replace(tzinfo=zone or timezone.get_current_timezone()))
