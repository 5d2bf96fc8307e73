"""The compliance gate: the one way to contact a debtor.

* ``check`` — a dry run: may this debtor be contacted now (or at ``at``)? Writes nothing.
* ``request`` — the real thing. In one transaction it locks the debtor's row, reads the clock
  (after the lock, so it sees every attempt committed ahead of it), evaluates the policy,
  writes a decision to the ledger and, when allowed, records a pending outbound attempt and
  returns a single-use ``Permit``. Blocked, it raises ``ContactBlocked`` after the decision is
  committed. Call it outside any transaction of your own, or the decision row is rolled back
  with yours when you give up.
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
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone as django_tz
from django.utils.translation import gettext as _

from debtors.audit import actor_label, system_actor
from debtors.models import Channel, ContactPoint, Debtor

from . import engine
from . import snapshot as snapshots
from .models import ContactAttempt, ContactDecision, ContactPermit, ContactPolicy
from .prepared import Statement
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
) -> engine.Situation:
    """Turn what was read into what the rules engine judges."""
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
    )


def judge(
    snapshot: snapshots.Snapshot,
    *,
    channel: str,
    at: dt.datetime,
    loan_id: int | None = None,
    contact_point_id: int | None = None,
    exclude_attempt_id: int | None = None,
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


def _load(debtor_id, channel, contact_point, at, *, exclude_attempt_id=None):
    try:
        return snapshots.load(
            debtor_id=debtor_id,
            channel=channel,
            contact_point_id=getattr(contact_point, "pk", None),
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
    snapshot = _load(debtor.pk, channel, contact_point, at)
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


_INSERT: Statement | None = None
_INSERT_TYPES = {
    "at": "timestamptz",
    "label": "text",
    "user": "bigint",
    "debtor": "bigint",
    "channel": "text",
    "loan": "bigint",
    "point": "bigint",
    "allowed": "boolean",
    "reasons": "text",
    "next": "timestamptz",
    "zones": "text",
    "policy": "bigint",
    "slug": "text",
    "version": "integer",
    "token_hash": "text",
    "expires": "timestamptz",
}


def _insert_statement() -> Statement:
    """Decision, pending attempt and permit in one statement (the last two only if allowed)."""
    global _INSERT
    if _INSERT is None:
        # Table names come from the models; every value is a query parameter.
        sql = f"""
WITH decision AS (
    INSERT INTO {ContactDecision._meta.db_table}
        (decided_at, actor_label, actor_user_id, debtor_id, channel, loan_id, contact_point_id,
         allowed, reasons, next_allowed_at, timezones, policy_id, policy_slug, policy_version)
    VALUES (%(at)s, %(label)s, %(user)s, %(debtor)s, %(channel)s, %(loan)s, %(point)s,
            %(allowed)s, %(reasons)s::jsonb, %(next)s, %(zones)s::jsonb, %(policy)s, %(slug)s,
            %(version)s)
    RETURNING id
), attempt AS (
    INSERT INTO {ContactAttempt._meta.db_table}
        (debtor_id, loan_id, contact_point_id, channel, direction, outcome, occurred_at,
         actor_label, actor_user_id, decision_id, breach, breach_reasons, created_at)
    SELECT %(debtor)s, %(loan)s, %(point)s, %(channel)s, 'outbound', 'pending', %(at)s,
           %(label)s, %(user)s, decision.id, false, '[]'::jsonb, %(at)s
      FROM decision WHERE %(allowed)s
    RETURNING id, decision_id
), permit AS (
    INSERT INTO {ContactPermit._meta.db_table}
        (token_hash, decision_id, attempt_id, debtor_id, channel, issued_at, expires_at)
    SELECT %(token_hash)s, attempt.decision_id, attempt.id, %(debtor)s, %(channel)s, %(at)s,
           %(expires)s
      FROM attempt
    RETURNING id
)
SELECT decision.id, (SELECT id FROM attempt), (SELECT id FROM permit) FROM decision
"""  # noqa: S608
        _INSERT = Statement("compliance_decide", sql, _INSERT_TYPES)
    return _INSERT


def _record(
    *,
    decision,
    policy,
    at,
    label,
    user_id,
    debtor_id,
    channel,
    loan_id,
    point_id,
    token_hash,
    expires_at,
) -> tuple[int, int | None]:
    """Write the decision (and, when allowed, the attempt and permit); return their ids."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            _insert_statement().execute(
                cursor,
                {
                    "at": at,
                    "label": label,
                    "user": user_id,
                    "debtor": debtor_id,
                    "channel": channel,
                    "loan": loan_id,
                    "point": point_id,
                    "allowed": decision.allowed,
                    "reasons": json.dumps(list(decision.reasons)),
                    "next": decision.next_allowed_at,
                    "zones": json.dumps(list(decision.timezones)),
                    "policy": policy.pk,
                    "slug": policy.slug,
                    "version": policy.version,
                    "token_hash": token_hash,
                    "expires": expires_at,
                },
            )
            decision_id, attempt_id, _permit_id = cursor.fetchone()
        return decision_id, attempt_id
    row = ContactDecision.objects.create(
        decided_at=at,
        actor_label=label,
        actor_user_id=user_id,
        debtor_id=debtor_id,
        channel=channel,
        loan_id=loan_id,
        contact_point_id=point_id,
        allowed=decision.allowed,
        reasons=list(decision.reasons),
        next_allowed_at=decision.next_allowed_at,
        timezones=list(decision.timezones),
        policy=policy,
        policy_slug=policy.slug,
        policy_version=policy.version,
    )
    if not decision.allowed:
        return row.pk, None
    attempt = ContactAttempt.objects.create(
        debtor_id=debtor_id,
        loan_id=loan_id,
        contact_point_id=point_id,
        channel=channel,
        direction="outbound",
        outcome="pending",
        occurred_at=at,
        actor_label=label,
        actor_user_id=user_id,
        decision=row,
        created_at=at,
    )
    ContactPermit.objects.create(
        token_hash=token_hash,
        decision=row,
        attempt=attempt,
        debtor_id=debtor_id,
        channel=channel,
        issued_at=at,
        expires_at=expires_at,
    )
    return row.pk, attempt.pk


def request(*, debtor, channel, actor, loan=None, contact_point=None, now=None) -> Permit:
    """Ask to contact ``debtor``; return a ``Permit`` or raise ``ContactBlocked``.

    Every decision, allowed or blocked, is written to the ledger. The debtor's row is locked
    for the whole transaction, so two requests for the same debtor are judged one after the
    other, each seeing the other's attempt.
    """
    _validate(debtor, channel, loan, contact_point)
    label, user_id = _actor_fields(actor)
    loan_id = getattr(loan, "pk", None)
    point_id = getattr(contact_point, "pk", None)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Lock first, then read the clock and everything else in statements that start after
        # the lock is held: they see every attempt committed by the request ahead of this one.
        if not snapshots.lock_debtor(debtor.pk):
            raise GateInputError(_("Unknown debtor %(debtor)s.") % {"debtor": debtor.pk})
        at = django_tz.now() if now is None else now
        snapshot = _load(debtor.pk, channel, contact_point, at)
        decision, policy = judge(
            snapshot, channel=channel, at=at, loan_id=loan_id, contact_point_id=point_id
        )
        expires_at = at + permit_ttl()
        decision_id, attempt_id = _record(
            decision=decision,
            policy=policy,
            at=at,
            label=label,
            user_id=user_id,
            debtor_id=debtor.pk,
            channel=channel,
            loan_id=loan_id,
            point_id=point_id,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
    decision = replace(decision, decision_id=decision_id)
    if not decision.allowed:
        raise ContactBlocked(decision)
    return Permit(token=token, expires_at=expires_at, decision=decision, attempt_id=attempt_id)


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
    if permit is None:
        raise InvalidPermit(_("Unknown permit."))
    if permit.channel != channel or permit.debtor_id != debtor_id:
        raise InvalidPermit(_("The permit is for another debtor or channel."))
    if permit.redeemed_at is not None:
        raise InvalidPermit(_("The permit was already used."))
    raise InvalidPermit(_("The permit has expired."))
