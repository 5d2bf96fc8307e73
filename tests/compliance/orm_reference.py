"""The gate's snapshot read with plain ORM queries: the reference the one-statement read
(``compliance.snapshot.load``) is compared with. Only the tests use it."""

from __future__ import annotations

import secrets

from django.db.models import Q

from compliance.engine import InconvenientTime
from compliance.gate import _actor_fields, hash_token, permit_ttl
from compliance.models import (
    ContactAttempt,
    ContactDecision,
    ContactPermit,
    ContactPolicy,
    DebtorContactPreference,
    Direction,
    Outcome,
)
from compliance.snapshot import (
    DEFAULT_LOOKBACK,
    Consent,
    DebtorFacts,
    PointFacts,
    PolicyRef,
    Snapshot,
    history_since,
)
from debtors.models import ChannelConsent, ContactPoint, Debtor


def load_with_orm(
    *, debtor_id, channel, contact_point_id, at, lookback=DEFAULT_LOOKBACK, exclude_attempt_id=None
) -> Snapshot:
    debtor = Debtor.objects.get(pk=debtor_id)
    since = at - lookback
    return Snapshot(
        debtor=DebtorFacts(
            debtor.pk,
            debtor.country,
            debtor.region,
            debtor.timezone,
            debtor.dispute,
            debtor.bankruptcy,
            debtor.deceased,
            debtor.cease_communication,
            debtor.hardship_pause_until,
            debtor.dispute_at,
            debtor.bankruptcy_at,
            debtor.deceased_at,
            debtor.cease_communication_at,
            debtor.hardship_at,
        ),
        points=[
            PointFacts(*values)
            for values in ContactPoint.objects.filter(debtor_id=debtor_id)
            .order_by("id")
            .values_list("id", "kind", "owner", "status", "value", "country", "timezone")
        ],
        consents=[
            Consent(cp, consented, opted, expires)
            for cp, consented, opted, expires in ChannelConsent.objects.filter(
                debtor_id=debtor_id, channel=channel
            )
            .filter(Q(contact_point__isnull=True) | Q(contact_point_id=contact_point_id))
            .values_list("contact_point_id", "consented_at", "opted_out_at", "expires_at")
        ],
        inconvenient=tuple(
            InconvenientTime(start=p.start_time, end=p.end_time, weekdays=frozenset(p.weekdays))
            for p in DebtorContactPreference.objects.filter(
                debtor_id=debtor_id, kind=DebtorContactPreference.Kind.INCONVENIENT
            ).filter(Q(channel="") | Q(channel=channel))
        ),
        history=history_since(debtor_id, since, exclude_attempt_id),
        policies=[
            PolicyRef(*values)
            for values in ContactPolicy.objects.filter(is_current=True, is_active=True)
            .filter(Q(is_default=True) | Q(country=debtor.country))
            .values_list("id", "version", "slug", "country", "region", "is_default")
        ],
        since=since,
    )


def record_with_orm(wanted, decision, policy, *, at, token=None):
    """What the gate writes for one judged request (``gate.DECIDE_MANY``), with the ORM.

    ``wanted`` is the ``gate.GateRequest``, ``decision`` and ``policy`` what ``gate.judge``
    answered for it at ``at``. Writes the decision and, when it allows the contact, a pending
    outbound attempt made at ``at`` under that decision and a single-use permit for it, valid
    for ``gate.permit_ttl()``. Returns ``(decision row, attempt, permit)``, the last two
    ``None`` for a blocked request.
    """
    label, user_id = _actor_fields(wanted.actor)
    row = ContactDecision.objects.create(
        decided_at=at,
        actor_label=label,
        actor_user_id=user_id,
        debtor_id=wanted.debtor_id,
        channel=wanted.channel,
        loan_id=wanted.loan_id,
        contact_point_id=wanted.contact_point_id,
        allowed=decision.allowed,
        reasons=list(decision.reasons),
        next_allowed_at=decision.next_allowed_at,
        timezones=list(decision.timezones),
        policy=policy,
        policy_slug=policy.slug,
        policy_version=policy.version,
    )
    if not decision.allowed:
        return row, None, None
    attempt = ContactAttempt.objects.create(
        debtor_id=wanted.debtor_id,
        loan_id=wanted.loan_id,
        contact_point_id=wanted.contact_point_id,
        channel=wanted.channel,
        direction=Direction.OUTBOUND,
        outcome=Outcome.PENDING,
        occurred_at=at,
        actor_label=label,
        actor_user_id=user_id,
        decision=row,
        breach=False,
        breach_reasons=[],
        created_at=at,
    )
    permit = ContactPermit.objects.create(
        token_hash=hash_token(token or secrets.token_urlsafe(32)),
        decision=row,
        attempt=attempt,
        debtor_id=wanted.debtor_id,
        channel=wanted.channel,
        issued_at=at,
        expires_at=at + permit_ttl(),
    )
    return row, attempt, permit
