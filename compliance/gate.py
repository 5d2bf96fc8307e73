"""The compliance gate: the one way to contact a debtor.

* ``check`` — a dry run: may this debtor be contacted now (or at ``at``)? Writes nothing.
* ``request`` — the real thing. In one transaction it locks the debtor's row, reads the clock
  (after the lock, so it sees every attempt committed ahead of it), evaluates the policy,
  writes a decision to the ledger and, when allowed, records a pending outbound attempt and
  returns a single-use ``Permit``. Blocked, it raises ``ContactBlocked`` after the decision is
  committed. Call it outside any transaction of your own, or the decision row is rolled back
  with yours when you give up. On PostgreSQL it costs two round trips: the lock and the
  read in one message, then the writes and the (synchronous) commit in another.
* ``request_many`` — the same for a batch (the reminder dispatcher): every debtor locked, each
  request judged and recorded, one transaction and one commit for all.
* ``redeem_permit`` — used by ``compliance.channels.ChannelBackend.send`` only: spends a
  permit once and returns the attempt it stands for.

A granted permit counts as an outbound attempt from the moment it is granted; recording its
outcome (``services.contact_attempt_record(attempt=...)``) completes that same attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Least
from django.utils import timezone as django_tz
from django.utils.translation import gettext as _

from debtors.audit import actor_label, system_actor
from debtors.models import Channel, ContactPoint, Debtor

from . import engine, hotpath
from . import snapshot as snapshots
from .hotpath import Statement
from .models import (
    ContactAttempt,
    ContactDecision,
    ContactPermit,
    ContactPolicy,
    Direction,
    Outcome,
)
from .reasons import Reason
from .rules import ChannelRules
from .selectors import NoPolicy, policy_version
from .zones import candidate_zones

DEFAULT_PERMIT_TTL = dt.timedelta(minutes=5)
CHANNELS = frozenset(Channel.values)
HOLD_FLAGS = (
    ("deceased", Reason.DECEASED),
    ("bankruptcy", Reason.BANKRUPTCY_HOLD),
    ("dispute", Reason.DISPUTE_HOLD),
    ("cease_communication", Reason.CEASE_COMMUNICATION),
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[str]
    next_allowed_at: dt.datetime | None
    timezones: list[str]
    policy_slug: str
    policy_version: int
    decision_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "next_allowed_at": (
                self.next_allowed_at.isoformat() if self.next_allowed_at is not None else None
            ),
            "timezones": list(self.timezones),
            "policy": self.policy_slug,
            "policy_version": self.policy_version,
        }


@dataclass(frozen=True)
class Permit:
    token: str = field(repr=False)
    expires_at: dt.datetime
    decision: Decision
    attempt_id: int


class ContactBlocked(Exception):
    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(", ".join(decision.reasons))


class InvalidPermit(Exception):
    pass


class GateInputError(ValueError):
    """A request that names something inconsistent (another debtor's loan, an unknown channel)."""


def permit_ttl() -> dt.timedelta:
    seconds = getattr(settings, "COMPLIANCE_PERMIT_TTL_SECONDS", None)
    return dt.timedelta(seconds=seconds) if seconds else DEFAULT_PERMIT_TTL


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _validate(debtor, channel: str, loan, contact_point) -> None:
    if channel not in CHANNELS:
        raise GateInputError(_("Unknown channel %(channel)s.") % {"channel": channel})
    if loan is not None and loan.debtor_id != debtor.pk:
        raise GateInputError(_("Loan %(loan)s is not the debtor's.") % {"loan": loan.pk})
    if contact_point is not None and contact_point.debtor_id != debtor.pk:
        raise GateInputError(
            _("Contact point %(point)s is not the debtor's.") % {"point": contact_point.pk}
        )


def _point(cp: snapshots.PointFacts | None) -> engine.Point | None:
    if cp is None:
        return None
    return engine.Point(id=cp.pk, kind=cp.kind, owner=cp.owner, status=cp.status)


def situation_from(
    snapshot: snapshots.Snapshot,
    *,
    channel: str,
    rules: ChannelRules | None,
    at: dt.datetime,
    loan_id: int | None = None,
    contact_point_id: int | None = None,
    exclude_attempt_id: int | None = None,
    pending: tuple[engine.Fact, ...] = (),
    purpose: str = "",
) -> engine.Situation:
    """Turn what was read into what the rules engine judges.

    ``pending`` are attempts granted earlier in the same batch, not written yet."""
    debtor = snapshot.debtor
    contact_point = snapshot.point(contact_point_id)
    if contact_point_id is not None and contact_point is None:
        raise GateInputError(
            _("Contact point %(point)s is not the debtor's.") % {"point": contact_point_id}
        )
    zones = candidate_zones(debtor, snapshot.points, contact_point)

    history = snapshot.history
    if rules is not None and at - rules.lookback() < snapshot.since:
        history = snapshots.history_since(debtor.pk, at - rules.lookback(), exclude_attempt_id)
    if pending:
        history = (*history, *pending)

    recent: tuple[str, ...] = ()
    if (
        rules is not None
        and contact_point is not None
        and contact_point.owner != ContactPoint.Owner.SELF
        and rules.third_parties == "after_unreachable"
    ):
        recent_rows = (
            ContactAttempt.objects.filter(
                debtor_id=debtor.pk,
                direction="outbound",
                contact_point__owner=ContactPoint.Owner.SELF,
                occurred_at__lte=at,
            )
            .exclude(outcome="pending")
            .order_by("-occurred_at", "-id")
        )
        if exclude_attempt_id is not None:
            recent_rows = recent_rows.exclude(pk=exclude_attempt_id)
        recent = tuple(
            recent_rows.values_list("outcome", flat=True)[: rules.unreachable_after_failed]
        )

    return engine.Situation(
        channel=channel,
        zones=tuple(zones),
        country=debtor.country,
        region=debtor.region,
        holds=frozenset(code for flag, code in HOLD_FLAGS if debtor.hold_in_force(flag, at)),
        hardship_pause_until=(
            debtor.hardship_pause_until
            if debtor.hardship_at is None or debtor.hardship_at <= at
            else None
        ),
        loan_id=loan_id,
        contact_point=_point(contact_point),
        own_phones=tuple(
            _point(cp)
            for cp in snapshot.points
            if cp.owner == ContactPoint.Owner.SELF and cp.kind in ContactPoint.PHONE_KINDS
        ),
        opted_out=any(c.opted_out_by(at) for c in snapshot.consents),
        has_consent=any(c.consented_by(at) for c in snapshot.consents),
        inconvenient=snapshot.inconvenient,
        history=history,
        recent_own_outcomes=recent,
        purpose=purpose,
        point_opted_out_at=max(
            (
                c.opted_out_at
                for c in snapshot.consents
                if c.contact_point_id is not None and c.opted_out_by(at)
            ),
            default=None,
        ),
    )


def judge(
    snapshot: snapshots.Snapshot,
    *,
    channel: str,
    at: dt.datetime,
    loan_id: int | None = None,
    contact_point_id: int | None = None,
    exclude_attempt_id: int | None = None,
    pending: tuple[engine.Fact, ...] = (),
    purpose: str = "",
) -> tuple[Decision, ContactPolicy]:
    """Evaluate the policy that applies to the snapshot's debtor at ``at``."""
    ref = snapshots.choose_policy(snapshot)
    if ref is None:
        raise NoPolicy(_("No active contact policy applies and there is no default policy."))
    policy, rules_by_channel = policy_version(ref.pk, ref.version)
    rules = rules_by_channel.get(channel)
    situation = situation_from(
        snapshot,
        channel=channel,
        rules=rules,
        at=at,
        loan_id=loan_id,
        contact_point_id=contact_point_id,
        exclude_attempt_id=exclude_attempt_id,
        pending=pending,
        purpose=purpose,
    )
    verdict = engine.evaluate(rules, situation, at)
    decision = Decision(
        allowed=verdict.allowed,
        reasons=verdict.reasons,
        next_allowed_at=verdict.next_allowed_at,
        timezones=list(situation.zones),
        policy_slug=policy.slug,
        policy_version=policy.version,
    )
    return decision, policy


def _load(debtor_id, channel, contact_point_id, at, *, exclude_attempt_id=None):
    try:
        return snapshots.load(
            debtor_id=debtor_id,
            channel=channel,
            contact_point_id=contact_point_id,
            at=at,
            exclude_attempt_id=exclude_attempt_id,
        )
    except Debtor.DoesNotExist as exc:
        raise GateInputError(_("Unknown debtor %(debtor)s.") % {"debtor": debtor_id}) from exc


def check(*, debtor, channel, loan=None, contact_point=None, at=None) -> Decision:
    """May ``debtor`` be contacted on ``channel`` at ``at`` (default: now)? Writes nothing."""
    _validate(debtor, channel, loan, contact_point)
    at = django_tz.now() if at is None else at
    if django_tz.is_naive(at):
        raise GateInputError(_("The instant must carry a time zone."))
    snapshot = _load(debtor.pk, channel, getattr(contact_point, "pk", None), at)
    decision, _policy = judge(
        snapshot,
        channel=channel,
        at=at,
        loan_id=getattr(loan, "pk", None),
        contact_point_id=getattr(contact_point, "pk", None),
    )
    return decision


def _actor_fields(actor) -> tuple[str, int | None]:
    if isinstance(actor, str):
        return system_actor(actor), None
    if actor is None:
        return system_actor("unattributed"), None
    return actor_label(actor), actor.pk


@dataclass(frozen=True)
class GateRequest:
    """One contact asked of ``request_many``, by ids. Build it with ``GateRequest.of``, which
    refuses a loan or contact point of another debtor."""

    debtor_id: int
    channel: str
    actor: object = None  # a user, a system actor's name, or None
    loan_id: int | None = None
    contact_point_id: int | None = None
    # ``engine.OPT_OUT_CONFIRMATION`` for the one message that confirms an opt-out; else "".
    purpose: str = ""

    @classmethod
    def of(
        cls, *, debtor, channel, actor, loan=None, contact_point=None, purpose=""
    ) -> GateRequest:
        _validate(debtor, channel, loan, contact_point)
        if purpose and purpose not in engine.PURPOSES:
            raise GateInputError(_("Unknown purpose %(purpose)s.") % {"purpose": purpose})
        return cls(
            debtor_id=debtor.pk,
            channel=channel,
            actor=actor,
            loan_id=getattr(loan, "pk", None),
            contact_point_id=getattr(contact_point, "pk", None),
            purpose=purpose,
        )


# What ``request_many`` gives for each request: a permit, the blocking decision, or the error
# that kept it from being judged (an unknown debtor, a contact point of another debtor, a
# debtor without a known time zone, no policy that applies). Errors record no decision.
GateOutcome = Permit | Decision | GateInputError | ValidationError | NoPolicy


def request(
    *, debtor, channel, actor, loan=None, contact_point=None, now=None, purpose=""
) -> Permit:
    """Ask to contact ``debtor``; return a ``Permit`` or raise ``ContactBlocked``.

    Every decision, allowed or blocked, is written to the ledger. The debtor's row is locked
    for the whole transaction, so two requests for the same debtor are judged one after the
    other, each seeing the other's attempt.
    """
    wanted = GateRequest.of(
        debtor=debtor,
        channel=channel,
        actor=actor,
        loan=loan,
        contact_point=contact_point,
        purpose=purpose,
    )
    (outcome,) = request_many([wanted], now=now)
    if isinstance(outcome, Permit):
        return outcome
    if isinstance(outcome, Decision):
        raise ContactBlocked(outcome)
    raise outcome


def request_many(requests: Sequence[GateRequest], *, now=None) -> list[GateOutcome]:
    """Judge several requests in one transaction; return one outcome per request, in order.

    The same guarantees as ``request``, for each: every debtor named is locked (in id order)
    before anything about it is read, the clock is read after the locks are held, every
    decision is written to the ledger, and each allowed one gets its pending attempt and a
    single-use permit. Two requests for the same debtor are judged one after the other, the
    second counting the first's attempt. On PostgreSQL, outside a transaction of the caller,
    the whole batch costs two round trips and one commit: lock and read, then write and commit.
    Inside the caller's transaction it runs in a savepoint and commits with the caller.
    """
    requests = list(requests)
    if not requests:
        return []
    if connection.get_autocommit() and not connection.in_atomic_block:
        return _request_many_sql(requests, now, own_transaction=True)
    with transaction.atomic():
        return _request_many_sql(requests, now, own_transaction=False)


def _request_many_sql(
    requests: list[GateRequest], now, *, own_transaction: bool
) -> list[GateOutcome]:
    # The history is read from an instant no later than the one judged (the clock read after
    # the locks, or ``now``), so it covers everything that instant's rules look at.
    since = (django_tz.now() if now is None else now) - snapshots.DEFAULT_LOOKBACK
    with connection.cursor() as cursor:
        try:
            batch = snapshots.lock_and_load(
                cursor,
                debtor_ids=sorted({r.debtor_id for r in requests}),
                channels=sorted({r.channel for r in requests}),
                since=since,
                ids=len(requests),
                begin=own_transaction,
            )
            at = django_tz.now() if now is None else now
            outcomes, rows = _judge_batch(requests, batch, at)
            _write(cursor, rows, at, commit=own_transaction)
        except BaseException:
            if own_transaction:
                hotpath.rollback(cursor)
            raise
    return outcomes


def _judge_batch(requests, batch: snapshots.Batch, at: dt.datetime):
    """Judge each request at ``at``; return the outcomes and the ledger rows to write."""
    outcomes: list[GateOutcome] = []
    rows: list[tuple] = []
    expires_at = at + permit_ttl()
    ids = iter(zip(batch.decision_ids, batch.attempt_ids, strict=True))
    granted: dict[int, list[engine.Fact]] = {}
    for wanted in requests:
        data = batch.debtors.get(wanted.debtor_id)
        if data is None:
            outcomes.append(
                GateInputError(_("Unknown debtor %(debtor)s.") % {"debtor": wanted.debtor_id})
            )
            continue
        pending = granted.setdefault(wanted.debtor_id, [])
        try:
            decision, policy = judge(
                data.snapshot(wanted.channel, wanted.contact_point_id),
                channel=wanted.channel,
                at=at,
                loan_id=wanted.loan_id,
                contact_point_id=wanted.contact_point_id,
                pending=tuple(pending),
                purpose=wanted.purpose,
            )
        except (GateInputError, ValidationError, NoPolicy) as exc:
            outcomes.append(exc)
            continue
        decision_id, attempt_id = next(ids)
        decision = Decision(
            decision.allowed,
            decision.reasons,
            decision.next_allowed_at,
            decision.timezones,
            decision.policy_slug,
            decision.policy_version,
            decision_id,
        )
        label, user_id = _actor_fields(wanted.actor)
        token = None
        if decision.allowed:
            token = secrets.token_urlsafe(32)
            # The batch's next request for this debtor counts this attempt.
            pending.append(
                engine.Fact(
                    channel=wanted.channel,
                    direction="outbound",
                    outcome=engine.PENDING,
                    occurred_at=at,
                    loan_id=wanted.loan_id,
                    contact_point_id=wanted.contact_point_id,
                    id=attempt_id,
                )
            )
            outcomes.append(
                Permit(token=token, expires_at=expires_at, decision=decision, attempt_id=attempt_id)
            )
        else:
            outcomes.append(decision)
        rows.append(
            (
                decision_id,
                wanted.debtor_id,
                wanted.channel,
                wanted.loan_id,
                wanted.contact_point_id,
                decision.allowed,
                _json_list(tuple(decision.reasons)),
                decision.next_allowed_at,
                _json_list(tuple(decision.timezones)),
                policy.pk,
                policy.slug,
                policy.version,
                label,
                user_id,
                attempt_id,
                hash_token(token) if token else None,
            )
        )
    return outcomes, rows


@lru_cache(maxsize=4096)
def _json_list(values: tuple[str, ...]) -> str:
    """A list of reason codes or zone names as JSON (few distinct lists: encoded once)."""
    return json.dumps(list(values))


_ROW_FIELDS = (
    "ids",
    "debtors",
    "channels",
    "loans",
    "points",
    "allowed",
    "reasons",
    "nexts",
    "zones",
    "policies",
    "slugs",
    "versions",
    "labels",
    "users",
    "attempts",
    "hashes",
)


def _decide_statement() -> Statement:
    """DECIDE_MANY: the decisions, and for the allowed ones the pending attempt and the permit,
    in one statement (the ``gate`` benchmark: see ``compliance.hotpath``)."""
    return hotpath.statement("compliance_decide_many", _build_decide)


def _build_decide() -> Statement:
    # Table names come from the models; every value is a query parameter.
    sql = f"""
WITH input AS (
    SELECT * FROM unnest(
    %(ids)s::bigint[], %(debtors)s::bigint[], %(channels)s::text[], %(loans)s::bigint[],
    %(points)s::bigint[], %(allowed)s::boolean[], %(reasons)s::text[],
    %(nexts)s::timestamptz[], %(zones)s::text[], %(policies)s::bigint[], %(slugs)s::text[],
    %(versions)s::integer[], %(labels)s::text[], %(users)s::bigint[], %(attempts)s::bigint[],
    %(hashes)s::text[]
    ) AS t(id, debtor_id, channel, loan_id, point_id, allowed, reasons, next_allowed_at, zones,
       policy_id, slug, version, label, user_id, attempt_id, token_hash)
), decision AS (
    INSERT INTO {ContactDecision._meta.db_table}
    (id, decided_at, actor_label, actor_user_id, debtor_id, channel, loan_id,
     contact_point_id, allowed, reasons, next_allowed_at, timezones, policy_id, policy_slug,
     policy_version)
    SELECT id, %(at)s, label, user_id, debtor_id, channel, loan_id, point_id, allowed,
       reasons::jsonb, next_allowed_at, zones::jsonb, policy_id, slug, version
      FROM input
), attempt AS (
    INSERT INTO {ContactAttempt._meta.db_table}
    (id, debtor_id, loan_id, contact_point_id, channel, direction, outcome, occurred_at,
     actor_label, actor_user_id, decision_id, breach, breach_reasons, created_at)
    SELECT attempt_id, debtor_id, loan_id, point_id, channel, '{Direction.OUTBOUND}',
           '{Outcome.PENDING}', %(at)s,
       label, user_id, id, false, '[]'::jsonb, %(at)s
      FROM input WHERE allowed
)
INSERT INTO {ContactPermit._meta.db_table}
    (token_hash, decision_id, attempt_id, debtor_id, channel, issued_at, expires_at)
SELECT token_hash, id, attempt_id, debtor_id, channel, %(at)s, %(expires)s
  FROM input WHERE allowed
"""  # noqa: S608
    types = dict.fromkeys(_ROW_FIELDS, "")
    types.update(
        ids="bigint[]",
        debtors="bigint[]",
        channels="text[]",
        loans="bigint[]",
        points="bigint[]",
        allowed="boolean[]",
        reasons="text[]",
        nexts="timestamptz[]",
        zones="text[]",
        policies="bigint[]",
        slugs="text[]",
        versions="integer[]",
        labels="text[]",
        users="bigint[]",
        attempts="bigint[]",
        hashes="text[]",
        at="timestamptz",
        expires="timestamptz",
    )
    return Statement("compliance_decide_many", sql, types)


def _write(cursor, rows: list[tuple], at: dt.datetime, *, commit: bool) -> None:
    """Write the ledger rows (and commit, in the same message, when the batch owns its
    transaction: a synchronous commit, so a permit is never handed out before it is durable)."""
    if not rows:
        if commit:
            hotpath.rollback(cursor)  # nothing to keep: let the locks go
        return
    values = {
        name: list(column)
        for name, column in zip(_ROW_FIELDS, zip(*rows, strict=True), strict=True)
    }
    values["at"] = at
    values["expires"] = at + permit_ttl()
    sql, params = _decide_statement().call(cursor, values)
    cursor.execute(hotpath.with_commit(sql) if commit else sql, params)


def redeem_permit(token: str, *, channel: str, debtor_id: int) -> ContactAttempt:
    """Spend a permit once; return its attempt. Raise ``InvalidPermit`` when it cannot be used."""
    token_hash = hash_token(token or "")
    now = django_tz.now()
    with transaction.atomic():
        spent = ContactPermit.objects.filter(
            token_hash=token_hash,
            channel=channel,
            debtor_id=debtor_id,
            redeemed_at__isnull=True,
            expires_at__gt=now,
        ).update(redeemed_at=now)
        permit = (
            ContactPermit.objects.select_related("attempt").filter(token_hash=token_hash).first()
        )
    if spent == 1:
        return permit.attempt
    raise _invalid(permit, channel=channel, debtor_id=debtor_id)


def permit_revoke(*, attempt_id: int) -> bool:
    """Void the unspent permit of an attempt, so that it can never be spent.

    True when it was voided (whatever it stood for can no longer be sent). False when there is
    none or it was spent first: then something may have been sent, and the caller must find
    out what. A spender and a revoker race on the same row lock, so exactly one of them wins.
    """
    void = django_tz.now() - dt.timedelta(days=1)
    return bool(
        ContactPermit.objects.filter(attempt_id=attempt_id, redeemed_at__isnull=True).update(
            expires_at=Least(F("expires_at"), Value(void))
        )
    )


def permits_revoke_for_points(*, contact_point_ids, channel: str) -> int:
    """Void every unspent permit to contact these points on ``channel`` (and, for their
    debtors, the permits that name no point): after an opt-out, nothing granted before it may
    still be sent. Returns how many were voided."""
    ids = list(contact_point_ids)
    if not ids:
        return 0
    debtor_ids = ContactPoint.objects.filter(pk__in=ids).values("debtor_id")
    void = django_tz.now() - dt.timedelta(days=1)
    unspent = ContactPermit.objects.filter(
        channel=channel, redeemed_at__isnull=True, expires_at__gt=void
    )
    return unspent.filter(
        Q(attempt__contact_point_id__in=ids)
        | Q(debtor_id__in=debtor_ids, attempt__contact_point_id__isnull=True)
    ).update(expires_at=Least(F("expires_at"), Value(void)))


def _invalid(permit: ContactPermit | None, *, channel: str, debtor_id: int) -> InvalidPermit:
    """Why a permit could not be spent."""
    if permit is None:
        return InvalidPermit(_("Unknown permit."))
    if permit.channel != channel or permit.debtor_id != debtor_id:
        return InvalidPermit(_("The permit is for another debtor or channel."))
    if permit.redeemed_at is not None:
        return InvalidPermit(_("The permit was already used."))
    return InvalidPermit(_("The permit has expired."))


def redeem_many_sql() -> str:
    """REDEEM_MANY: spend the permits named by ``(token hash, channel, debtor)`` at ``%s`` that
    are unspent and unexpired at ``%s``; returns each spent permit's key and attempt.

    Hand-written for the ``reminders`` benchmark (dispatching over 1,000 reminders a second):
    a batch's permits are spent in one UPDATE and one synchronous commit before anything is
    delivered. The conditions are checked by the UPDATE itself, so two callers can never both
    spend one permit. The tests compare it with a conditional ORM update per permit
    (``tests/compliance/test_statements.py``).
    """
    return f"""UPDATE {ContactPermit._meta.db_table} AS p SET redeemed_at = %s
          FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS v(token_hash, channel, debtor_id)
         WHERE p.token_hash = v.token_hash AND p.channel = v.channel
           AND p.debtor_id = v.debtor_id AND p.redeemed_at IS NULL AND p.expires_at > %s
     RETURNING p.token_hash, p.channel, p.debtor_id, p.attempt_id"""  # noqa: S608


def redeem_permits(
    wanted: Sequence[tuple[str, str, int]],
) -> list[ContactAttempt | InvalidPermit]:
    """``redeem_permit`` for several ``(token, channel, debtor_id)`` at once.

    Every permit that can be spent is spent in one transaction (one synchronous commit,
    before anything is delivered); each item gets its attempt or its ``InvalidPermit``. A
    permit goes to the first item that names it with its own debtor and channel; a second
    such item gets "already used", and an item naming it for another debtor or channel gets
    that reason, whatever the order.
    """
    keys = [(hash_token(token or ""), channel, debtor) for token, channel, debtor in wanted]
    now = django_tz.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            redeem_many_sql(),
            [
                now,
                [token_hash for token_hash, _channel, _debtor in keys],
                [channel for _hash, channel, _debtor in keys],
                [debtor for _hash, _channel, debtor in keys],
                now,
            ],
        )
        spent = {(h, channel, debtor): attempt for h, channel, debtor, attempt in cursor.fetchall()}
    attempts = ContactAttempt.objects.in_bulk(spent.values()) if spent else {}
    others = {key[0] for key in keys if key not in spent}
    permits = (
        {p.token_hash: p for p in ContactPermit.objects.filter(token_hash__in=others)}
        if others
        else {}
    )
    results: list[ContactAttempt | InvalidPermit] = []
    given: set[tuple] = set()
    for key in keys:
        if key in spent and key not in given:
            given.add(key)
            results.append(attempts[spent[key]])
        elif key in given:
            results.append(InvalidPermit(_("The permit was already used.")))
        else:
            token_hash, channel, debtor_id = key
            results.append(_invalid(permits.get(token_hash), channel=channel, debtor_id=debtor_id))
    return results
