"""The rules engine: given a situation and an instant, may the contact happen?

Pure functions over plain data (no database), so that the gate, the breach check of recorded
attempts and the property tests all judge with the same code.

``evaluate`` returns the reasons that block and, when only time-dependent rules block, the
earliest later instant at which every one of them passes given the history as it stands
(``next_allowed_at``). It finds it by moving forward from one lower bound to the next: each
rule that blocks at ``t`` names the earliest instant it could pass, the latest of those is a
lower bound for the answer, and the search stops at the first instant no rule blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import holidays as holidays_lib

from .reasons import Reason
from .rules import ChannelRules, Cooldown, Limit
from .zones import zone

UTC = dt.UTC
PENDING = "pending"
UNANSWERED = frozenset({"no_answer", "busy", "left_message", "failed"})
FAILED = frozenset({"no_answer", "busy", "failed", "wrong_number", "bounced"})
CHANNELS_BY_KIND = {
    "mobile": frozenset({"call", "sms"}),
    "landline": frozenset({"call"}),
    "email": frozenset({"email"}),
    "address": frozenset({"letter", "visit"}),
    "in_app": frozenset({"in_app"}),
}
REASON_ORDER = {code: i for i, code in enumerate(Reason.values)}
HORIZON = dt.timedelta(days=400)
MAX_STEPS = 500
# The one message that confirms an opt-out (TCPA, CTIA: "you will receive no more messages"):
# allowed once, to the point that opted out, within ``CONFIRMATION_WINDOW`` of the opt-out,
# whatever else would block it (it answers the debtor's own message), and never again.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"
PURPOSES = frozenset({OPT_OUT_CONFIRMATION})
CONFIRMATION_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Fact:
    """One contact attempt in the debtor's history."""

    channel: str
    direction: str
    outcome: str
    occurred_at: dt.datetime
    loan_id: int | None = None
    contact_point_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Point:
    """The parts of a contact point the rules look at."""

    id: int | None
    kind: str
    owner: str = "self"
    status: str = "valid"

    @property
    def is_usable(self) -> bool:
        return self.status not in ("invalid", "wrong_party")


@dataclass(frozen=True)
class InconvenientTime:
    """A period the debtor said does not suit them; ``start > end`` spans midnight."""

    start: dt.time
    end: dt.time
    weekdays: frozenset[int] = frozenset()  # empty: every day

    def _covers_day(self, weekday: int) -> bool:
        return not self.weekdays or weekday in self.weekdays


@dataclass
class Situation:
    """Everything the rules need to know about one debtor and one intended contact."""

    channel: str
    zones: tuple[str, ...]
    country: str = ""
    region: str = ""
    holds: frozenset[str] = frozenset()  # debtor-wide hold reason codes
    hardship_pause_until: dt.date | None = None
    loan_id: int | None = None
    contact_point: Point | None = None
    own_phones: tuple[Point, ...] = ()
    opted_out: bool = False
    has_consent: bool = False
    inconvenient: tuple[InconvenientTime, ...] = ()
    history: tuple[Fact, ...] = ()
    # Outcomes of the latest outbound attempts to the debtor's own contact points, newest first.
    recent_own_outcomes: tuple[str, ...] = ()
    # Why the contact is made: "" (collection) or ``OPT_OUT_CONFIRMATION``.
    purpose: str = ""
    # When the contact point itself opted out of the channel (None: it has not).
    point_opted_out_at: dt.datetime | None = None
    _tz: tuple = field(default=(), repr=False)

    def tzinfos(self):
        if not self._tz:
            self._tz = tuple(zone(name) for name in self.zones)
        return self._tz


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: list[str]
    next_allowed_at: dt.datetime | None


# --- local time helpers --------------------------------------------------------------------


def local_instants(day: dt.date, at: dt.time, tz) -> list[dt.datetime]:
    """The UTC instants at which the wall clock in ``tz`` shows ``day at``.

    One usually; two in a fold (the clock goes back); in a gap (the clock jumps forward over
    it), the instant of the jump, the first at which the clock shows a later time.
    """
    wall = dt.datetime.combine(day, at)
    candidates = sorted({wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)})
    real = [c for c in candidates if c.astimezone(tz).replace(tzinfo=None) == wall]
    if real:
        return real
    # In a gap: search between the two readings for the jump, to the second.
    low, high = candidates[0], candidates[-1]
    while high - low > dt.timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return [high.replace(microsecond=0) if high.microsecond else high]


@lru_cache(maxsize=8192)
def start_of_day(day: dt.date, tz) -> dt.datetime:
    """The first instant of a local calendar day, in UTC."""
    return local_instants(day, dt.time(0), tz)[0]


def first_after(instants: Iterable[dt.datetime], t: dt.datetime) -> dt.datetime | None:
    later = [i for i in instants if i > t]
    return min(later) if later else None


@lru_cache(maxsize=4096)
def _holiday_dates(country: str, subdiv: str, year: int) -> frozenset[dt.date]:
    try:
        found = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=year)
    except NotImplementedError:
        if not subdiv:
            return frozenset()
        return _holiday_dates(country, "", year)
    return frozenset(found.keys())


def is_holiday(day: dt.date, country: str, region: str = "") -> bool:
    if not country:
        return False
    subdiv = region.split("-", 1)[1] if "-" in region else ""
    return day in _holiday_dates(country.upper(), subdiv.upper(), day.year)


# --- holds ---------------------------------------------------------------------------------


def hold_reasons(rules: ChannelRules | None, s: Situation, at: dt.datetime) -> list[str]:
    reasons = list(s.holds)
    if s.hardship_pause_until is not None and any(
        at.astimezone(tz).date() <= s.hardship_pause_until for tz in s.tzinfos()
    ):
        reasons.append(Reason.HARDSHIP_PAUSE)
    if s.opted_out:
        reasons.append(Reason.CHANNEL_OPT_OUT)
    cp = s.contact_point
    if cp is not None and (
        not cp.is_usable or s.channel not in CHANNELS_BY_KIND.get(cp.kind, frozenset())
    ):
        reasons.append(Reason.INVALID_CONTACT_POINT)
    if rules is None:
        return reasons
    if rules.consent_required and not s.has_consent:
        reasons.append(Reason.NO_CONSENT)
    if cp is not None and cp.owner != "self" and not _third_party_allowed(rules, s):
        reasons.append(Reason.THIRD_PARTY_NOT_ALLOWED)
    return reasons


def _third_party_allowed(rules: ChannelRules, s: Situation) -> bool:
    if rules.third_parties == "allowed":
        return True
    if rules.third_parties == "never":
        return False
    if not any(p.is_usable for p in s.own_phones):
        return True
    n = rules.unreachable_after_failed
    recent = s.recent_own_outcomes[:n]
    return len(recent) == n and all(outcome in FAILED for outcome in recent)


# --- time-dependent rules ------------------------------------------------------------------


def _in_window(rules: ChannelRules, local: dt.datetime) -> bool:
    wd, now = local.weekday(), local.time()
    return any(wd in w.weekdays and w.start <= now < w.end for w in rules.windows)


def _next_window_start(rules: ChannelRules, t: dt.datetime, tz) -> dt.datetime | None:
    today = t.astimezone(tz).date()
    for offset in range(8):
        day = today + dt.timedelta(days=offset)
        starts = []
        for w in rules.windows:
            if day.weekday() in w.weekdays:
                starts.extend(local_instants(day, w.start, tz))
        found = first_after(starts, t)
        if found is not None:
            return found
    return None


def _contact_hours(rules: ChannelRules, s: Situation, t: dt.datetime):
    if rules.windows is None:
        return None
    outside = [tz for tz in s.tzinfos() if not _in_window(rules, t.astimezone(tz))]
    if not outside:
        return None
    candidates = [_next_window_start(rules, t, tz) for tz in outside]
    return Reason.OUTSIDE_CONTACT_HOURS, (None if None in candidates else max(candidates))


def _holiday(rules: ChannelRules, s: Situation, t: dt.datetime):
    if not rules.no_contact_on_holidays:
        return None
    ends = []
    for tz in s.tzinfos():
        day = t.astimezone(tz).date()
        if is_holiday(day, s.country, s.region):
            ends.append(start_of_day(day + dt.timedelta(days=1), tz))
    if not ends:
        return None
    return Reason.HOLIDAY, max(ends)


def _inconvenient(s: Situation, t: dt.datetime):
    ends = []
    for period in s.inconvenient:
        for tz in s.tzinfos():
            local = t.astimezone(tz)
            day, now = local.date(), local.time()
            end_day = None
            if period.start < period.end:
                if period._covers_day(day.weekday()) and period.start <= now < period.end:
                    end_day = day
            elif now >= period.start and period._covers_day(day.weekday()):
                end_day = day + dt.timedelta(days=1)
            elif now < period.end and period._covers_day((day - dt.timedelta(days=1)).weekday()):
                end_day = day
            if end_day is not None:
                end = first_after(local_instants(end_day, period.end, tz), t)
                ends.append(end or t + dt.timedelta(minutes=1))
    if not ends:
        return None
    return Reason.DEBTOR_INCONVENIENT_TIME, max(ends)


def _in_scope(fact: Fact, rule: Limit | Cooldown, s: Situation) -> bool:
    if fact.channel not in rule.channels or fact.direction not in rule.directions:
        return False
    if rule.per == "loan" and s.loan_id is not None:
        return fact.loan_id == s.loan_id
    if rule.per == "contact_point" and s.contact_point is not None:
        return fact.contact_point_id == s.contact_point.id
    return True


def _counts(limit: Limit, outcome: str) -> bool:
    if limit.count == "attempts":
        return True
    if outcome == PENDING:
        return True  # may still turn out to be either
    if limit.count == "conversations":
        return outcome == "conversation"
    return outcome in UNANSWERED


def _period_start(rule: Limit | Cooldown, s: Situation, t: dt.datetime) -> tuple[dt.datetime, bool]:
    """Start of the period ending at ``t``; the bool says whether it is inclusive."""
    if rule.hours is not None:
        return t - dt.timedelta(hours=rule.hours), False
    back = dt.timedelta(days=rule.days - 1)
    return min(start_of_day(t.astimezone(tz).date() - back, tz) for tz in s.tzinfos()), True


def _period_end(rule: Limit | Cooldown, s: Situation, at: dt.datetime) -> dt.datetime:
    """The first instant at which something that happened at ``at`` is out of the period."""
    if rule.hours is not None:
        return at + dt.timedelta(hours=rule.hours)
    ahead = dt.timedelta(days=rule.days)
    return max(start_of_day(at.astimezone(tz).date() + ahead, tz) for tz in s.tzinfos())


def _within(fact: Fact, start: dt.datetime, inclusive: bool, t: dt.datetime) -> bool:
    if fact.occurred_at > t:
        return False
    return fact.occurred_at >= start if inclusive else fact.occurred_at > start


def _limits(rules: ChannelRules, s: Situation, t: dt.datetime):
    found = []
    for limit in rules.limits:
        start, inclusive = _period_start(limit, s, t)
        times = sorted(
            f.occurred_at
            for f in s.history
            if _within(f, start, inclusive, t)
            and _in_scope(f, limit, s)
            and _counts(limit, f.outcome)
        )
        if len(times) < limit.max:
            continue
        reason = Reason.DAILY_LIMIT if limit.is_daily else Reason.ROLLING_LIMIT
        if limit.max == 0:
            found.append((reason, None))
            continue
        # Enough of the oldest must leave the period: the one at len - max is the last to go.
        found.append((reason, _period_end(limit, s, times[len(times) - limit.max])))
    return found


def _cooldowns(rules: ChannelRules, s: Situation, t: dt.datetime):
    ends = []
    for cooldown in rules.cooldowns:
        for f in s.history:
            if f.outcome != cooldown.after or f.occurred_at > t or not _in_scope(f, cooldown, s):
                continue
            end = _period_end(cooldown, s, f.occurred_at)
            if end > t:
                ends.append(end)
    if not ends:
        return None
    return Reason.CONVERSATION_COOLDOWN, max(ends)


def _min_interval(rules: ChannelRules, s: Situation, t: dt.datetime):
    if not rules.min_interval:
        return None
    previous = [
        f.occurred_at
        for f in s.history
        if f.channel == rules.channel and f.direction == "outbound" and f.occurred_at <= t
    ]
    if not previous:
        return None
    end = max(previous) + rules.min_interval
    return (Reason.MIN_INTERVAL, end) if end > t else None


def time_blocks(rules: ChannelRules | None, s: Situation, t: dt.datetime):
    """``[(reason, earliest instant it could pass or None), ...]`` for the rules blocking at ``t``."""
    blocks = []
    if rules is not None:
        for check in (_contact_hours, _holiday):
            found = check(rules, s, t)
            if found:
                blocks.append(found)
    found = _inconvenient(s, t)
    if found:
        blocks.append(found)
    if rules is not None:
        blocks.extend(_limits(rules, s, t))
        for check in (_cooldowns, _min_interval):
            found = check(rules, s, t)
            if found:
                blocks.append(found)
    return blocks


def _sorted_unique(codes: Iterable[str]) -> list[str]:
    return sorted({str(c) for c in codes}, key=lambda c: REASON_ORDER.get(c, len(REASON_ORDER)))


def evaluate(rules: ChannelRules | None, s: Situation, at: dt.datetime) -> Verdict:
    """Judge a contact at ``at`` (aware). ``rules`` is None for a channel the policy omits."""
    if at.tzinfo is None:
        raise ValueError("evaluate() needs an aware datetime")
    at = at.astimezone(UTC)
    if s.purpose == OPT_OUT_CONFIRMATION:
        return _confirmation(s, at)
    holds = hold_reasons(rules, s, at)
    blocks = time_blocks(rules, s, at)
    reasons = _sorted_unique([*holds, *(reason for reason, _ in blocks)])
    if not reasons:
        return Verdict(True, [], None)
    if holds:
        return Verdict(False, reasons, None)
    return Verdict(False, reasons, next_allowed(rules, s, at, blocks))


def _confirmation(s: Situation, at: dt.datetime) -> Verdict:
    """The opt-out confirmation: only to a point that opted out of the channel, within the
    window, and only if nothing has gone to that point on the channel since the opt-out."""
    opted = s.point_opted_out_at
    if s.contact_point is None or opted is None or not opted <= at <= opted + CONFIRMATION_WINDOW:
        return Verdict(False, [Reason.CHANNEL_OPT_OUT], None)
    for fact in s.history:
        if (
            fact.channel == s.channel
            and fact.direction == "outbound"
            and fact.contact_point_id == s.contact_point.id
            and fact.occurred_at >= opted
        ):
            return Verdict(False, [Reason.CHANNEL_OPT_OUT], None)
    return Verdict(True, [], None)


def next_allowed(rules, s: Situation, at: dt.datetime, blocks=None) -> dt.datetime | None:
    t = at
    for _ in range(MAX_STEPS):
        if blocks is None:
            blocks = time_blocks(rules, s, t)
        if not blocks:
            return t
        candidates = [c for _, c in blocks]
        if None in candidates:
            return None
        t = max(candidates)
        if t - at > HORIZON:
            return None
        blocks = None
    return None
