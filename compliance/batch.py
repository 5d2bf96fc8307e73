"""The gate's dry run for many debtors at once: "may each of them be contacted now?".

A page of the work queue asks it for every row. ``check_many`` gives, for each debtor, the
decision ``gate.check`` would give (same snapshot, same policy choice, same ``gate.judge``),
from two statements whatever the number of debtors: the current policies, then every
debtor's snapshot in one round trip on PostgreSQL (``load_many``, through the statement the
gate itself reads with, ``snapshot.read_many``). It writes nothing; the
gate decides again, and records its decision, when a contact is actually requested.

The history reaches back as far as the longest rule of the policies that may apply, so the
judge never has to read more per debtor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone as django_tz
from django.utils.translation import gettext as _

from . import snapshot as snapshots
from .gate import Decision, GateInputError, judge
from .models import ContactPolicy
from .selectors import NoPolicy, policy_version


def current_policies() -> list[snapshots.PolicyRef]:
    """CURRENT_POLICIES: the current, active policies, in one plain statement.

    Every queue page runs it, for the ``pages`` benchmark (queue p95 under 200 ms): the ORM
    would compile the query again on each page. The tests compare it with the ORM's answer
    (``tests/compliance/test_batch.py``)."""
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
    with connection.cursor() as cursor:
        data = snapshots.read_many(cursor, debtor_ids=ids, channels=[channel], since=since)
    return {pk: debtor.snapshot(channel, None) for pk, debtor in data.items()}


def check_many(
    *, debtor_ids: Iterable[int], channel: str, at: dt.datetime | None = None
) -> dict[int, Decision | None]:
    """May each debtor be contacted on ``channel`` at ``at`` (default: now)? Writes nothing.

    The answer for a debtor is what ``gate.check`` answers, or ``None`` where the gate could
    not judge: an unknown debtor, no policy, or no known time zone.
    """
    ids = list(debtor_ids)
    answers = check_loans(wanted=[(pk, None) for pk in ids], channel=channel, at=at)
    return {
        pk: None if isinstance(answers[pk, None], Exception) else answers[pk, None] for pk in ids
    }


def check_loans(
    *, wanted: Iterable[tuple[int, int | None]], channel: str, at: dt.datetime | None = None
) -> dict[tuple[int, int | None], Decision | GateInputError | NoPolicy | ValidationError]:
    """``check_many`` for contacts about loans: for each (debtor id, loan id) pair, what
    ``gate.check`` answers for a contact about that loan (a limit per loan counts that loan's
    attempts). Where the gate cannot judge, the error it would raise, for that pair only. The
    loans are taken to be their debtors' (the caller read them so)."""
    at = django_tz.now() if at is None else at
    pairs = list(dict.fromkeys(wanted))
    found = load_many(debtor_ids=[debtor_id for debtor_id, _loan in pairs], channel=channel, at=at)
    answers: dict = {}
    for debtor_id, loan_id in pairs:
        snapshot = found.get(debtor_id)
        if snapshot is None:
            answers[debtor_id, loan_id] = GateInputError(
                _("Unknown debtor %(debtor)s.") % {"debtor": debtor_id}
            )
            continue
        try:
            answers[debtor_id, loan_id], _policy = judge(
                snapshot, channel=channel, at=at, loan_id=loan_id
            )
        except (NoPolicy, ValidationError) as exc:
            answers[debtor_id, loan_id] = exc
    return answers
