"""What the gate reads about a debtor before judging: one round trip on PostgreSQL.

The debtor's row, contact points, consents for the channel, inconvenient times, recent contact
attempts and the policies that may apply come back from a single statement, its parts
aggregated as JSON. ``request`` locks the debtor's row with a statement of its own *before*:
under READ COMMITTED a statement sees what was committed when it started, so a statement that
waited for the lock would still miss the attempts of the transaction it waited for.

``tests/compliance/test_snapshot.py`` reads the same ``Snapshot`` with plain ORM queries and
compares it with this statement's, field by field.

``request`` reads with ``lock_and_load``: one message to the server holds the lock statement
and, after it, a read of every debtor of the batch (each ``DebtorData`` gives the
``Snapshot`` of one request). The two are separate statements, so the read starts after the
lock is held, and they travel in one round trip. The read also draws the ids the decisions
and attempts will have, so that writing them needs no answer from the server.

The history reaches back ``lookback`` before the instant judged, on every channel; the gate
reads further back only for a policy whose rules need it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace

from django.db import connection

from debtors.models import ChannelConsent, ContactPoint, Debtor

from . import hotpath
from .engine import Fact, InconvenientTime
from .hotpath import Statement
from .models import ContactAttempt, ContactDecision, ContactPolicy, DebtorContactPreference

DEFAULT_LOOKBACK = dt.timedelta(days=9)


@dataclass(frozen=True)
class DebtorFacts:
    pk: int
    country: str
    region: str
    timezone: str
    dispute: bool
    bankruptcy: bool
    deceased: bool
    cease_communication: bool
    hardship_pause_until: dt.date | None
    # When each hold was recorded (None: unknown, so it applies whenever it is set).
    dispute_at: dt.datetime | None = None
    bankruptcy_at: dt.datetime | None = None
    deceased_at: dt.datetime | None = None
    cease_communication_at: dt.datetime | None = None
    hardship_at: dt.datetime | None = None

    def hold_in_force(self, flag: str, at: dt.datetime) -> bool:
        """Whether a hold flag applied at ``at`` (a fact recorded later is judged as of then)."""
        since = getattr(self, f"{flag}_at")
        return bool(getattr(self, flag)) and (since is None or since <= at)


@dataclass(frozen=True)
class PointFacts:
    pk: int
    kind: str
    owner: str
    status: str
    value: str
    country: str
    timezone: str

    @property
    def is_usable(self) -> bool:
        return self.status not in (ContactPoint.Status.INVALID, ContactPoint.Status.WRONG_PARTY)


@dataclass(frozen=True)
class PolicyRef:
    pk: int
    version: int
    slug: str
    country: str
    region: str
    is_default: bool


@dataclass(frozen=True)
class Consent:
    contact_point_id: int | None
    consented_at: dt.datetime | None
    opted_out_at: dt.datetime | None
    expires_at: dt.datetime | None = None

    def opted_out_by(self, at: dt.datetime) -> bool:
        return self.opted_out_at is not None and self.opted_out_at <= at

    def consented_by(self, at: dt.datetime) -> bool:
        return (
            self.consented_at is not None
            and self.consented_at <= at
            and (self.expires_at is None or at < self.expires_at)
            and not self.opted_out_by(at)
        )


@dataclass
class Snapshot:
    debtor: DebtorFacts
    points: list[PointFacts]
    consents: list[Consent]
    inconvenient: tuple[InconvenientTime, ...]
    history: tuple[Fact, ...]
    policies: list[PolicyRef]
    since: dt.datetime

    def point(self, pk: int | None) -> PointFacts | None:
        return next((p for p in self.points if p.pk == pk), None)


def _lock_many_statement() -> Statement:
    """LOCK_DEBTORS: lock the debtors' rows, in id order, so two batches never wait for each
    other in a circle."""
    return hotpath.statement(
        "compliance_lock_debtors",
        lambda: Statement(
            "compliance_lock_debtors",
            f"SELECT id FROM {Debtor._meta.db_table} "  # noqa: S608
            "WHERE id = ANY(%(debtors)s::bigint[]) ORDER BY id FOR UPDATE",
            {"debtors": "bigint[]"},
        ),
    )


def _read_many_statement(cursor) -> Statement:
    """READ_DEBTORS: what the gate judges about each debtor, in one statement (see the
    module's docstring), and the ids the batch's decisions and attempts will have."""
    return hotpath.statement("compliance_read_debtors", lambda: _build_read_many(cursor))


def _build_read_many(cursor) -> Statement:
    debtor = Debtor._meta.db_table
    point = ContactPoint._meta.db_table
    consent = ChannelConsent._meta.db_table
    preference = DebtorContactPreference._meta.db_table
    attempt = ContactAttempt._meta.db_table
    policy = ContactPolicy._meta.db_table
    decision_ids = hotpath.sequence(cursor, ContactDecision)
    attempt_ids = hotpath.sequence(cursor, ContactAttempt)
    # Table and sequence names come from the models; every value is a query parameter. Each
    # debtor is one JSON document (one parse on the client; timestamps in JSON's ISO form,
    # which PostgreSQL writes without to_char). The last two columns are uncorrelated:
    # computed once per statement, not once per row.
    sql = f"""
SELECT json_build_array(
       d.id, d.country, d.region, d.timezone, d.dispute, d.bankruptcy, d.deceased,
       d.cease_communication, d.hardship_pause_until, d.dispute_at, d.bankruptcy_at,
       d.deceased_at, d.cease_communication_at, d.hardship_at,
       (SELECT json_agg(json_build_array(cp.id, cp.kind, cp.owner, cp.status, cp.value,
                                         cp.country, cp.timezone) ORDER BY cp.id)
          FROM {point} cp WHERE cp.debtor_id = d.id),
       (SELECT json_agg(json_build_array(c.channel, c.contact_point_id, c.consented_at,
                                         c.opted_out_at, c.expires_at))
          FROM {consent} c
         WHERE c.debtor_id = d.id AND c.channel = ANY(%(channels)s::text[])),
       (SELECT json_agg(json_build_array(p.channel, p.start_time, p.end_time, p.weekdays))
          FROM {preference} p
         WHERE p.debtor_id = d.id AND p.kind = '{DebtorContactPreference.Kind.INCONVENIENT}'
           AND (p.channel = '' OR p.channel = ANY(%(channels)s::text[]))),
       (SELECT json_agg(json_build_array(a.channel, a.direction, a.outcome, a.occurred_at,
                                         a.loan_id, a.contact_point_id))
          FROM {attempt} a
         WHERE a.debtor_id = d.id AND a.occurred_at >= %(since)s),
       (SELECT json_agg(json_build_array(pol.id, pol.version, pol.slug, pol.country, pol.region,
                                         pol.is_default))
          FROM {policy} pol
         WHERE pol.is_current AND pol.is_active AND (pol.is_default OR pol.country = d.country))
       )::text,
       (SELECT array_agg(nextval('{decision_ids}'))::text FROM generate_series(1, %(ids)s)),
       (SELECT array_agg(nextval('{attempt_ids}'))::text FROM generate_series(1, %(ids)s))
  FROM {debtor} d
 WHERE d.id = ANY(%(debtors)s::bigint[])
"""  # noqa: S608
    return Statement(
        "compliance_read_debtors",
        sql,
        {"channels": "text[]", "since": "timestamptz", "ids": "integer", "debtors": "bigint[]"},
    )


@dataclass
class DebtorData:
    """What ``lock_and_load`` read about one debtor, for every channel of the batch."""

    debtor: DebtorFacts
    points: list[PointFacts]
    consents: list[tuple[str, Consent]]  # (channel, consent)
    inconvenient: list[tuple[str, InconvenientTime]]  # ("" for every channel, or one)
    history: list[Fact]
    policies: list[PolicyRef]
    since: dt.datetime

    def snapshot(self, channel: str, contact_point_id: int | None) -> Snapshot:
        """The snapshot ``load`` would read for one request (the history as it stands now)."""
        return Snapshot(
            debtor=self.debtor,
            points=self.points,
            consents=[
                c
                for ch, c in self.consents
                if ch == channel
                and (c.contact_point_id is None or c.contact_point_id == contact_point_id)
            ],
            inconvenient=tuple(p for ch, p in self.inconvenient if ch in ("", channel)),
            history=tuple(self.history),
            policies=self.policies,
            since=self.since,
        )


@dataclass
class Batch:
    """What one ``lock_and_load`` gave: each locked debtor's data and ids drawn for writing."""

    debtors: dict[int, DebtorData]
    decision_ids: list[int]
    attempt_ids: list[int]


def _ids(text: str | None) -> list[int]:
    return [int(v) for v in text[1:-1].split(",")] if text else []


def lock_and_load(
    cursor, *, debtor_ids: list[int], channels: list[str], since: dt.datetime, ids: int, begin: bool
) -> Batch:
    """Lock the debtors (in id order) and then read them, in one round trip (PostgreSQL).

    ``begin`` starts the transaction in the same message. ``ids`` decision ids and as many
    attempt ids are drawn from their sequences. A debtor that does not exist is absent.
    """
    lock_sql, lock_params = _lock_many_statement().call(cursor, {"debtors": debtor_ids})
    read_sql, read_params = _read_many_statement(cursor).call(
        cursor, {"debtors": debtor_ids, "channels": channels, "since": since, "ids": ids}
    )
    # Two statements in one message: each takes its own snapshot under READ COMMITTED, so
    # the read sees every attempt committed by the transactions the lock waited for. The
    # prepared statements keep their generic plan (an index lookup per debtor, whatever the
    # batch's size) instead of being planned again for every call, for this transaction only.
    statements = ["SET LOCAL plan_cache_mode TO force_generic_plan", lock_sql, read_sql]
    sql = hotpath.begin(statements) if begin else ";\n".join(statements)
    cursor.execute(sql, [*lock_params, *read_params])
    return _parse_many(cursor.fetchall(), since)


def read_many(
    cursor, *, debtor_ids: list[int], channels: list[str], since: dt.datetime
) -> dict[int, DebtorData]:
    """What ``lock_and_load`` reads, without the locks and without drawing ids (PostgreSQL):
    for a dry run over many debtors (``compliance.batch``)."""
    sql, params = _read_many_statement(cursor).call(
        cursor, {"debtors": debtor_ids, "channels": channels, "since": since, "ids": 0}
    )
    cursor.execute(sql, params)
    return _parse_many(cursor.fetchall(), since).debtors


def _parse_many(rows, since: dt.datetime) -> Batch:
    found: dict[int, DebtorData] = {}
    decision_ids: list[int] = []
    attempt_ids: list[int] = []
    for document, decision_text, attempt_text in rows:
        (*debtor, points, consents, preferences, history, policies) = json.loads(document)
        if not decision_ids:
            decision_ids, attempt_ids = _ids(decision_text), _ids(attempt_text)
        found[debtor[0]] = DebtorData(
            debtor=DebtorFacts(
                *debtor[:8],
                None if debtor[8] is None else dt.date.fromisoformat(debtor[8]),
                *(_instant(v) for v in debtor[9:14]),
            ),
            points=[PointFacts(*p) for p in points or ()],
            consents=[
                (channel, Consent(cp, _instant(given), _instant(opted), _instant(expires)))
                for channel, cp, given, opted, expires in consents or ()
            ],
            inconvenient=[
                (
                    channel,
                    InconvenientTime(
                        start=dt.time.fromisoformat(start),
                        end=dt.time.fromisoformat(end),
                        weekdays=frozenset(days or ()),
                    ),
                )
                for channel, start, end, days in preferences or ()
            ],
            history=[
                Fact(
                    channel=c,
                    direction=d,
                    outcome=o,
                    occurred_at=_instant(when),
                    loan_id=loan,
                    contact_point_id=cp,
                )
                for c, d, o, when, loan, cp in history or ()
            ],
            policies=[PolicyRef(*p) for p in policies or ()],
            since=since,
        )
    return Batch(debtors=found, decision_ids=decision_ids, attempt_ids=attempt_ids)


def _instant(text: str | None) -> dt.datetime | None:
    """A timestamp as JSON writes it (ISO 8601 with its offset)."""
    return None if text is None else dt.datetime.fromisoformat(text)


def load(
    *, debtor_id, channel, contact_point_id, at, lookback=DEFAULT_LOOKBACK, exclude_attempt_id=None
) -> Snapshot:
    """One debtor's snapshot from the statement the gate's batches read (``read_many``);
    ``Debtor.DoesNotExist`` for an unknown debtor."""
    since = at - lookback
    with connection.cursor() as cursor:
        data = read_many(cursor, debtor_ids=[debtor_id], channels=[channel], since=since).get(
            debtor_id
        )
    if data is None:
        raise Debtor.DoesNotExist(f"Debtor {debtor_id} does not exist.")
    snapshot = data.snapshot(channel, contact_point_id)
    if exclude_attempt_id is not None:
        # Judging an attempt already recorded: its own row is no part of its history.
        snapshot = replace(snapshot, history=history_since(debtor_id, since, exclude_attempt_id))
    return snapshot


def history_since(
    debtor_id: int, since: dt.datetime, exclude_attempt_id: int | None = None
) -> tuple[Fact, ...]:
    rows = ContactAttempt.objects.filter(debtor_id=debtor_id, occurred_at__gte=since)
    if exclude_attempt_id is not None:
        rows = rows.exclude(pk=exclude_attempt_id)
    return tuple(
        Fact(
            channel=c,
            direction=d,
            outcome=o,
            occurred_at=when,
            loan_id=loan,
            contact_point_id=cp,
            id=pk,
        )
        for c, d, o, when, loan, cp, pk in rows.values_list(
            "channel", "direction", "outcome", "occurred_at", "loan_id", "contact_point_id", "id"
        )
    )


def choose_policy(snapshot: Snapshot) -> PolicyRef | None:
    """The debtor's region's policy, else the country's, else the default."""
    region = snapshot.debtor.region
    country = snapshot.debtor.country

    def rank(policy: PolicyRef) -> int:
        if policy.is_default:
            return 2
        if policy.country != country:
            return 9
        if policy.region and policy.region == region:
            return 0
        return 1 if not policy.region else 9

    ranked = sorted((rank(p), p.pk, p) for p in snapshot.policies)
    ranked = [entry for entry in ranked if entry[0] < 9]
    return ranked[0][2] if ranked else None
