"""The per-channel rules of a contact policy: a JSON document, validated and parsed.

A policy's ``rules`` field holds one entry per channel::

    {
      "call": {
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                   "from": "08:00", "to": "21:00"}],
        "no_contact_on_holidays": false,
        "limits": [{"count": "attempts", "max": 7, "directions": ["outbound"],
                    "per": "loan", "days": 7}],
        "cooldowns": [{"after": "conversation", "days": 7, "per": "loan",
                       "directions": ["outbound", "inbound"]}],
        "min_interval_minutes": 0,
        "consent_required": false,
        "third_parties": "after_unreachable",
        "unreachable_after_failed": 3,
        "opt_out_required": false
      },
      ...
    }

Meaning of each key:

* ``hours``: windows in the debtor's local time, ``from`` inclusive and ``to`` exclusive
  (08:00-21:00 allows 20:59:59 and refuses 21:00:00). A weekday with no window is closed.
  Absent or ``null``: any time.
* ``no_contact_on_holidays``: closed on the public holidays of the debtor's country (and region).
* ``limits``: at most ``max`` of ``count`` (``attempts``, ``conversations`` or ``unanswered``)
  for the ``directions`` given, ``per`` debtor, loan or contact point, within ``days`` calendar
  days in the debtor's zone (today being day 1) or a rolling ``hours``. ``channels`` (optional)
  lists the channels counted; by default the rule's own channel. A one-day limit reports
  ``daily_limit``, any other ``rolling_limit``. When a request names no loan (or contact
  point), a per-loan (per-contact-point) limit counts every loan (contact point) of the debtor.
* ``cooldowns``: no contact within ``days`` calendar days after an outcome (the day of the
  outcome being day 1), or a rolling ``hours``.
* ``min_interval_minutes``: the least time between two outbound attempts on the channel.
* ``consent_required``: the channel needs a recorded consent (debtor-wide or for the contact point).
* ``third_parties``: ``never``, ``after_unreachable`` (when every own phone number is invalid or
  the last ``unreachable_after_failed`` outbound attempts to the debtor all failed) or
  ``allowed``. Messages to third parties never disclose the debt.
* ``opt_out_required``: electronic messages must carry an opt-out (enforced by templates).

A channel absent from the document is subject to the holds only.

A granted permit whose outcome is not known yet counts as an attempt, and also as a possible
conversation and a possible unanswered attempt, since it may still turn out either way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("call", "sms", "email", "in_app", "letter", "visit")
DIRECTIONS = ("outbound", "inbound")
COUNTS = ("attempts", "conversations", "unanswered")
PERS = ("debtor", "loan", "contact_point")
THIRD_PARTY_MODES = ("never", "after_unreachable", "allowed")

CHANNEL_KEYS = {
    "hours",
    "no_contact_on_holidays",
    "limits",
    "cooldowns",
    "min_interval_minutes",
    "consent_required",
    "third_parties",
    "unreachable_after_failed",
    "opt_out_required",
}


@dataclass(frozen=True)
class Window:
    weekdays: frozenset[int]  # 0 = Monday
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Limit:
    count: str
    max: int
    directions: frozenset[str]
    per: str
    channels: frozenset[str]
    days: int | None = None
    hours: int | None = None

    @property
    def is_daily(self) -> bool:
        return self.days == 1


@dataclass(frozen=True)
class Cooldown:
    after: str  # an outcome, e.g. "conversation"
    directions: frozenset[str]
    per: str
    channels: frozenset[str]
    days: int | None = None
    hours: int | None = None


@dataclass(frozen=True)
class ChannelRules:
    channel: str
    windows: tuple[Window, ...] | None = None  # None: any time
    no_contact_on_holidays: bool = False
    limits: tuple[Limit, ...] = ()
    cooldowns: tuple[Cooldown, ...] = ()
    min_interval: dt.timedelta | None = None
    consent_required: bool = False
    third_parties: str = "never"
    unreachable_after_failed: int = 3
    opt_out_required: bool = False
    counted_channels: frozenset[str] = field(default_factory=frozenset)

    def lookback(self) -> dt.timedelta:
        """How far back the history must reach to evaluate these rules."""
        return self._lookback

    @cached_property
    def _lookback(self) -> dt.timedelta:
        # Rules never change once parsed: computed once (stored beside the frozen fields).
        spans = [dt.timedelta(0)]
        for rule in (*self.limits, *self.cooldowns):
            spans.append(dt.timedelta(days=rule.days or 0, hours=rule.hours or 0))
        if self.min_interval:
            spans.append(self.min_interval)
        # Calendar days start at local midnight: allow for any zone's offset.
        return max(spans) + dt.timedelta(days=2)


def _time(value, path: str) -> dt.time:
    if not isinstance(value, str):
        raise ValidationError(_("%(path)s must be a time as HH:MM.") % {"path": path})
    try:
        return dt.time.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(_("%(path)s must be a time as HH:MM.") % {"path": path}) from exc


def _positive_int(value, path: str, *, zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
        raise ValidationError(
            _("%(path)s must be a whole number of at least %(min)s.")
            % {"path": path, "min": 0 if zero else 1}
        )
    return value


def _choices(value, allowed, path: str) -> frozenset[str]:
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise ValidationError(
            _("%(path)s must be a non-empty list of: %(allowed)s.")
            % {"path": path, "allowed": ", ".join(allowed)}
        )
    return frozenset(value)


def _choice(value, allowed, path: str) -> str:
    if value not in allowed:
        raise ValidationError(
            _("%(path)s must be one of: %(allowed)s.")
            % {"path": path, "allowed": ", ".join(allowed)}
        )
    return value


def _span(spec: dict, path: str) -> tuple[int | None, int | None]:
    days, hours = spec.get("days"), spec.get("hours")
    if (days is None) == (hours is None):
        raise ValidationError(_("%(path)s needs either days or hours.") % {"path": path})
    if days is not None:
        return _positive_int(days, f"{path}.days"), None
    return None, _positive_int(hours, f"{path}.hours")


def _bool(value, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(_("%(path)s must be true or false.") % {"path": path})
    return value


def _keys(spec, allowed: set[str], path: str) -> None:
    if not isinstance(spec, dict):
        raise ValidationError(_("%(path)s must be an object.") % {"path": path})
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValidationError(
            _("%(path)s has unknown keys: %(keys)s.") % {"path": path, "keys": ", ".join(unknown)}
        )


def parse_channel_rules(channel: str, spec: dict) -> ChannelRules:
    path = channel
    _keys(spec, CHANNEL_KEYS, path)
    windows = None
    if spec.get("hours") is not None:
        if not isinstance(spec["hours"], list):
            raise ValidationError(_("%(path)s.hours must be a list.") % {"path": path})
        windows = []
        for i, w in enumerate(spec["hours"]):
            wpath = f"{path}.hours[{i}]"
            _keys(w, {"days", "from", "to"}, wpath)
            days = _choices(w.get("days"), WEEKDAYS, f"{wpath}.days")
            start, end = _time(w.get("from"), f"{wpath}.from"), _time(w.get("to"), f"{wpath}.to")
            if start >= end:
                raise ValidationError(
                    _("%(path)s: 'from' must be before 'to' (a window ends by midnight).")
                    % {"path": wpath}
                )
            windows.append(Window(frozenset(WEEKDAYS.index(d) for d in days), start, end))
        windows = tuple(windows)
    limits = []
    for i, lim in enumerate(spec.get("limits") or []):
        lpath = f"{path}.limits[{i}]"
        _keys(lim, {"count", "max", "directions", "per", "days", "hours", "channels"}, lpath)
        days, hours = _span(lim, lpath)
        limits.append(
            Limit(
                count=_choice(lim.get("count"), COUNTS, f"{lpath}.count"),
                max=_positive_int(lim.get("max"), f"{lpath}.max", zero=True),
                directions=_choices(
                    lim.get("directions", ["outbound"]), DIRECTIONS, f"{lpath}.directions"
                ),
                per=_choice(lim.get("per", "debtor"), PERS, f"{lpath}.per"),
                channels=_choices(lim.get("channels", [channel]), CHANNELS, f"{lpath}.channels"),
                days=days,
                hours=hours,
            )
        )
    cooldowns = []
    for i, cd in enumerate(spec.get("cooldowns") or []):
        cpath = f"{path}.cooldowns[{i}]"
        _keys(cd, {"after", "directions", "per", "days", "hours", "channels"}, cpath)
        days, hours = _span(cd, cpath)
        cooldowns.append(
            Cooldown(
                after=_choice(cd.get("after"), ("conversation",), f"{cpath}.after"),
                directions=_choices(
                    cd.get("directions", list(DIRECTIONS)), DIRECTIONS, f"{cpath}.directions"
                ),
                per=_choice(cd.get("per", "debtor"), PERS, f"{cpath}.per"),
                channels=_choices(cd.get("channels", [channel]), CHANNELS, f"{cpath}.channels"),
                days=days,
                hours=hours,
            )
        )
    min_interval = None
    if spec.get("min_interval_minutes"):
        minutes = _positive_int(spec["min_interval_minutes"], f"{path}.min_interval_minutes")
        min_interval = dt.timedelta(minutes=minutes)
    counted = {channel}
    for rule in (*limits, *cooldowns):
        counted |= rule.channels
    return ChannelRules(
        channel=channel,
        windows=windows,
        no_contact_on_holidays=_bool(
            spec.get("no_contact_on_holidays", False), f"{path}.no_contact_on_holidays"
        ),
        limits=tuple(limits),
        cooldowns=tuple(cooldowns),
        min_interval=min_interval,
        consent_required=_bool(spec.get("consent_required", False), f"{path}.consent_required"),
        third_parties=_choice(
            spec.get("third_parties", "never"), THIRD_PARTY_MODES, f"{path}.third_parties"
        ),
        unreachable_after_failed=_positive_int(
            spec.get("unreachable_after_failed", 3), f"{path}.unreachable_after_failed"
        ),
        opt_out_required=_bool(spec.get("opt_out_required", False), f"{path}.opt_out_required"),
        counted_channels=frozenset(counted),
    )


def parse_rules(document) -> dict[str, ChannelRules]:
    """Parse a policy's rules document; raise ``ValidationError`` naming the faulty path."""
    if not isinstance(document, dict):
        raise ValidationError(_("The rules must be an object keyed by channel."))
    unknown = sorted(set(document) - set(CHANNELS))
    if unknown:
        raise ValidationError(
            _("Unknown channels in the rules: %(keys)s (expected %(allowed)s).")
            % {"keys": ", ".join(unknown), "allowed": ", ".join(CHANNELS)}
        )
    return {channel: parse_channel_rules(channel, spec) for channel, spec in document.items()}


def validate_rules(document) -> None:
    parse_rules(document)
