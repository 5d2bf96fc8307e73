"""The gate's dry run for many debtors at once: "may each of them be contacted now?".

A page of the work queue asks it for every row. ``check_many`` gives, for each debtor, the
decision ``gate.check`` would give (same snapshot, same policy choice, same ``gate.judge``),
from two statements whatever the number of debtors: the current policies, then every
debtor's snapshot in one round trip on PostgreSQL (``load_many``). It writes nothing; the
gate decides again, and records its decision, when a contact is actually requested.

The history reaches back as far as the longest rule of the policies that may apply, so the
judge never has to read more per debtor.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone as django_tz

from debtors.models import ChannelConsent, ContactPoint, Debtor

from . import snapshot as snapshots
from .engine import Fact, InconvenientTime
from .gate import Decision, judge
from .models import ContactAttempt, ContactPolicy, DebtorContactPreference
from .prepared import Statement
from .selectors import NoPolicy, policy_version

ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US'  # to_char() format of a UTC timestamp


def _parse_json(value):
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


def _utc(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _sql() -> str:
    debtor = Debtor._meta.db_table
    point = ContactPoint._meta.db_table
    consent = ChannelConsent._meta.db_table
    preference = DebtorContactPreference._meta.db_table
    attempt = ContactAttempt._meta.db_table
    # The gate's snapshot statement (compliance.snapshot) for a set of debtors and no contact
    # point; the policies are read once for all of them. Table names come from the models;
    # every value is a query parameter.
    return f"""
SELECT d.id, d.country, d.region, d.timezone, d.dispute, d.bankruptcy, d.deceased,
       d.cease_communication, d.hardship_pause_until, d.dispute_at, d.bankruptcy_at,
       d.deceased_at, d.cease_communication_at, d.hardship_at,
       (SELECT json_agg(json_build_array(cp.id, cp.kind, cp.owner, cp.status, cp.value,
                                         cp.country, cp.timezone))
          FROM {point} cp WHERE cp.debtor_id = d.id),
       (SELECT json_agg(json_build_array(c.contact_point_id,
                                         to_char(c.consented_at AT TIME ZONE 'UTC', '{ISO}'),
                                         to_char(c.opted_out_at AT TIME ZONE 'UTC', '{ISO}')))
          FROM {consent} c
         WHERE c.debtor_id = d.id AND c.channel = %(channel)s AND c.contact_point_id IS NULL),
       (SELECT json_agg(json_build_array(p.start_time, p.end_time, p.weekdays))
          FROM {preference} p
         WHERE p.debtor_id = d.id AND p.kind = 'inconvenient' AND p.channel IN ('', %(channel)s)),
       (SELECT json_agg(json_build_array(a.channel, a.direction, a.outcome,
                                         to_char(a.occurred_at AT TIME ZONE 'UTC', '{ISO}'),
                                         a.loan_id, a.contact_point_id))
          FROM {attempt} a
         WHERE a.debtor_id = d.id AND a.occurred_at >= %(since)s)
  FROM {debtor} d
 WHERE d.id = ANY(%(ids)s)
"""  # noqa: S608


_STATEMENT: Statement | None = None


def _statement() -> Statement:
    global _STATEMENT
    if _STATEMENT is None:
        _STATEMENT = Statement(
            "compliance_snapshot_batch",
            _sql(),
            {"ids": "bigint[]", "channel": "text", "since": "timestamptz"},
        )
    return _STATEMENT


def current_policies() -> list[snapshots.PolicyRef]:
    """The current, active policies (one query; plain SQL on PostgreSQL: every queue page
    runs it)."""
    if connection.vendor != "postgresql":
        return [
            snapshots.PolicyRef(*values)
            for values in ContactPolicy.objects.filter(is_current=True, is_active=True)
            .order_by("id")
            .values_list("id", "version", "slug", "country", "region", "is_default")
        ]
    table = ContactPolicy._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, version, slug, country, region, is_default FROM {table} "  # noqa: S608
            "WHERE is_current AND is_active ORDER BY id"
        )
        return [snapshots.PolicyRef(*values) for values in cursor.fetchall()]


def history_lookback(policies: Iterable[snapshots.PolicyRef], channel: str) -> dt.timedelta:
    """How far back the history must reach for every one of ``policies`` on ``channel``."""
    spans = [snapshots.DEFAULT_LOOKBACK]
    for ref in policies:
        rules = policy_version(ref.pk, ref.version)[1].get(channel)
        if rules is not None:
            spans.append(rules.lookback())
    return max(spans)


def _applicable(policies: list[snapshots.PolicyRef], country: str) -> list[snapshots.PolicyRef]:
    # What the gate's snapshot reads: the default and the debtor's country's policies.
    return [p for p in policies if p.is_default or p.country == country]


def load_many(
    *,
    debtor_ids: Iterable[int],
    channel: str,
    at: dt.datetime,
    policies: list[snapshots.PolicyRef] | None = None,
) -> dict[int, snapshots.Snapshot]:
    """Each known debtor's snapshot for a contact on ``channel`` at ``at``, by debtor id."""
    ids = sorted(set(debtor_ids))
    if not ids:
        return {}
    if policies is None:
        policies = current_policies()
    since = at - history_lookback(policies, channel)
    if connection.vendor != "postgresql":
        found = {}
        for pk in ids:
            try:
                found[pk] = snapshots.load_with_orm(
                    debtor_id=pk, channel=channel, contact_point_id=None, at=at, lookback=at - since
                )
            except Debtor.DoesNotExist:
                continue
        return found
    with connection.cursor() as cursor:
        _statement().execute(cursor, {"ids": ids, "channel": channel, "since": since})
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        points, consents, preferences, history = (_parse_json(v) for v in row[14:])
        facts = snapshots.DebtorFacts(*row[:14])
        found[facts.pk] = snapshots.Snapshot(
            debtor=facts,
            points=sorted((snapshots.PointFacts(*p) for p in points), key=lambda point: point.pk),
            consents=[
                snapshots.Consent(cp, _utc(given), _utc(opted)) for cp, given, opted in consents
            ],
            inconvenient=tuple(
                InconvenientTime(
                    start=dt.time.fromisoformat(start),
                    end=dt.time.fromisoformat(end),
                    weekdays=frozenset(days or ()),
                )
                for start, end, days in preferences
            ),
            history=tuple(
                Fact(
                    channel=c,
                    direction=d,
                    outcome=o,
                    occurred_at=_utc(when),
                    loan_id=loan,
                    contact_point_id=cp,
                )
                for c, d, o, when, loan, cp in history
            ),
            policies=_applicable(policies, facts.country),
            since=since,
        )
    return found


def check_many(
    *, debtor_ids: Iterable[int], channel: str, at: dt.datetime | None = None
) -> dict[int, Decision | None]:
    """May each debtor be contacted on ``channel`` at ``at`` (default: now)? Writes nothing.

    The answer for a debtor is what ``gate.check`` answers, or ``None`` where the gate could
    not judge: an unknown debtor, no policy, or no known time zone.
    """
    at = django_tz.now() if at is None else at
    ids = list(debtor_ids)
    found = load_many(debtor_ids=ids, channel=channel, at=at)
    answers: dict[int, Decision | None] = {}
    for pk in ids:
        snapshot = found.get(pk)
        if snapshot is None:
            answers[pk] = None
            continue
        try:
            answers[pk], _policy = judge(snapshot, channel=channel, at=at)
        except (NoPolicy, ValidationError):
            answers[pk] = None
    return answers
