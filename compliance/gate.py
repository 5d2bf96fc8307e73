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
import secrets
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as django_tz
from django.utils.translation import gettext as _

from debtors.audit import actor_label, system_actor
from debtors.models import Channel, ChannelConsent, ContactPoint, Debtor

from . import engine
from .models import (
    ContactAttempt,
    ContactDecision,
    ContactPermit,
    ContactPolicy,
    DebtorContactPreference,
)
from .reasons import Reason
from .selectors import policy_for_debtor, policy_rules

DEFAULT_PERMIT_TTL = dt.timedelta(minutes=5)
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


def _point(cp: ContactPoint | None) -> engine.Point | None:
    if cp is None:
        return None
    return engine.Point(id=cp.pk, kind=cp.kind, owner=cp.owner, status=cp.status)


def _validate(debtor: Debtor, channel: str, loan, contact_point) -> None:
    if channel not in Channel.values:
        raise GateInputError(_("Unknown channel %(channel)s.") % {"channel": channel})
    if loan is not None and loan.debtor_id != debtor.pk:
        raise GateInputError(_("Loan %(loan)s is not the debtor's.") % {"loan": loan.pk})
    if contact_point is not None and contact_point.debtor_id != debtor.pk:
        raise GateInputError(
            _("Contact point %(point)s is not the debtor's.") % {"point": contact_point.pk}
        )


def build_situation(
    *,
    debtor: Debtor,
    channel: str,
    policy: ContactPolicy,
    at: dt.datetime,
    loan=None,
    contact_point=None,
    exclude_attempt_id: int | None = None,
) -> tuple[engine.ChannelRules | None, engine.Situation]:
    """Read what the rules need about the debtor (a handful of small indexed queries)."""
    from .zones import candidate_zones

    rules = policy_rules(policy).get(channel)
    points = list(
        ContactPoint.objects.filter(debtor_id=debtor.pk).only(
            "id", "debtor_id", "kind", "owner", "status", "value", "country", "timezone"
        )
    )
    if contact_point is not None:
        contact_point = next((cp for cp in points if cp.pk == contact_point.pk), contact_point)
    zones = candidate_zones(debtor, points, contact_point)

    consents = list(
        ChannelConsent.objects.filter(debtor_id=debtor.pk, channel=channel).filter(
            Q(contact_point__isnull=True) | Q(contact_point_id=getattr(contact_point, "pk", None))
        )
    )
    opted_out = any(c.is_opted_out for c in consents)
    has_consent = any(c.has_consent for c in consents)

    inconvenient = tuple(
        engine.InconvenientTime(start=p.start_time, end=p.end_time, weekdays=frozenset(p.weekdays))
        for p in DebtorContactPreference.objects.filter(
            debtor_id=debtor.pk, kind=DebtorContactPreference.Kind.INCONVENIENT
        ).filter(Q(channel="") | Q(channel=channel))
    )

    history: tuple[engine.Fact, ...] = ()
    if rules is not None and (rules.limits or rules.cooldowns or rules.min_interval):
        rows = ContactAttempt.objects.filter(
            debtor_id=debtor.pk,
            channel__in=sorted(rules.counted_channels),
            occurred_at__gte=at - rules.lookback(),
        )
        if exclude_attempt_id is not None:
            rows = rows.exclude(pk=exclude_attempt_id)
        history = tuple(
            engine.Fact(
                channel=c, direction=d, outcome=o, occurred_at=when, loan_id=lo, contact_point_id=p
            )
            for c, d, o, when, lo, p in rows.values_list(
                "channel", "direction", "outcome", "occurred_at", "loan_id", "contact_point_id"
            )
        )

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

    situation = engine.Situation(
        channel=channel,
        zones=tuple(zones),
        country=debtor.country,
        region=debtor.region,
        holds=frozenset(code for flag, code in HOLD_FLAGS if getattr(debtor, flag)),
        hardship_pause_until=debtor.hardship_pause_until,
        loan_id=getattr(loan, "pk", None),
        contact_point=_point(contact_point),
        own_phones=tuple(
            _point(cp)
            for cp in points
            if cp.owner == ContactPoint.Owner.SELF and cp.kind in ContactPoint.PHONE_KINDS
        ),
        opted_out=opted_out,
        has_consent=has_consent,
        inconvenient=inconvenient,
        history=history,
        recent_own_outcomes=recent,
    )
    return rules, situation


def _judge(*, debtor, channel, loan, contact_point, at) -> tuple[Decision, ContactPolicy]:
    policy = policy_for_debtor(debtor)
    rules, situation = build_situation(
        debtor=debtor, channel=channel, policy=policy, at=at, loan=loan, contact_point=contact_point
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


def check(*, debtor, channel, loan=None, contact_point=None, at=None) -> Decision:
    """May ``debtor`` be contacted on ``channel`` at ``at`` (default: now)? Writes nothing."""
    _validate(debtor, channel, loan, contact_point)
    at = django_tz.now() if at is None else at
    if django_tz.is_naive(at):
        raise GateInputError(_("The instant must carry a time zone."))
    decision, _policy = _judge(
        debtor=debtor, channel=channel, loan=loan, contact_point=contact_point, at=at
    )
    return decision


def _actor_fields(actor) -> tuple[str, int | None]:
    if isinstance(actor, str):
        return system_actor(actor), None
    if actor is None:
        return system_actor("unattributed"), None
    return actor_label(actor), actor.pk


def request(*, debtor, channel, actor, loan=None, contact_point=None, now=None) -> Permit:
    """Ask to contact ``debtor``; return a ``Permit`` or raise ``ContactBlocked``.

    Every decision, allowed or blocked, is written to the ledger.
    """
    _validate(debtor, channel, loan, contact_point)
    label, user_id = _actor_fields(actor)
    with transaction.atomic():
        locked = Debtor.objects.select_for_update().get(pk=debtor.pk)
        # The clock is read only once the lock is held (see ARCHITECTURE.md).
        at = django_tz.now() if now is None else now
        decision, policy = _judge(
            debtor=locked, channel=channel, loan=loan, contact_point=contact_point, at=at
        )
        row = ContactDecision.objects.create(
            decided_at=at,
            actor_label=label,
            actor_user_id=user_id,
            debtor_id=locked.pk,
            channel=channel,
            loan_id=getattr(loan, "pk", None),
            contact_point_id=getattr(contact_point, "pk", None),
            allowed=decision.allowed,
            reasons=list(decision.reasons),
            next_allowed_at=decision.next_allowed_at,
            timezones=list(decision.timezones),
            policy=policy,
            policy_slug=policy.slug,
            policy_version=policy.version,
        )
        decision = replace(decision, decision_id=row.pk)
        if decision.allowed:
            attempt = ContactAttempt.objects.create(
                debtor_id=locked.pk,
                loan_id=getattr(loan, "pk", None),
                contact_point_id=getattr(contact_point, "pk", None),
                channel=channel,
                direction="outbound",
                outcome="pending",
                occurred_at=at,
                actor_label=label,
                actor_user_id=user_id,
                decision=row,
                created_at=at,
            )
            token = secrets.token_urlsafe(32)
            expires_at = at + permit_ttl()
            ContactPermit.objects.create(
                token_hash=hash_token(token),
                decision=row,
                attempt=attempt,
                debtor_id=locked.pk,
                channel=channel,
                issued_at=at,
                expires_at=expires_at,
            )
    if not decision.allowed:
        raise ContactBlocked(decision)
    return Permit(token=token, expires_at=expires_at, decision=decision, attempt_id=attempt.pk)


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
