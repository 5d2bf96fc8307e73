"""Writes of the compliance app: recorded attempts, policy versions, debtor preferences."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone as django_tz
from django.utils.translation import gettext as _

from debtors.audit import acting_as
from debtors.models import Channel, Debtor

from . import snapshot as snapshots
from .gate import GateInputError, _actor_fields, judge
from .models import (
    ContactAttempt,
    ContactDecision,
    ContactPolicy,
    DebtorContactPreference,
    Direction,
    Outcome,
)

RECORDABLE_OUTCOMES = tuple(o for o in Outcome.values if o != Outcome.PENDING)


def _judge_fact(
    *, debtor, channel, direction, occurred_at, loan, contact_point, exclude_attempt_id
):
    """Was an attempt at ``occurred_at`` within the policy? Inbound contacts never breach."""
    snapshot = snapshots.load(
        debtor_id=debtor.pk,
        channel=channel,
        contact_point_id=getattr(contact_point, "pk", None),
        at=occurred_at,
        exclude_attempt_id=exclude_attempt_id,
    )
    decision, policy = judge(
        snapshot,
        channel=channel,
        at=occurred_at,
        loan_id=getattr(loan, "pk", None),
        contact_point_id=getattr(contact_point, "pk", None),
        exclude_attempt_id=exclude_attempt_id,
    )
    if direction != Direction.OUTBOUND:
        return False, [], policy
    return not decision.allowed, list(decision.reasons), policy


@transaction.atomic
def contact_attempt_record(
    *,
    actor,
    debtor: Debtor,
    channel: str,
    direction: str,
    outcome: str,
    occurred_at: dt.datetime,
    loan=None,
    contact_point=None,
    attempt: ContactAttempt | None = None,
) -> ContactAttempt:
    """Record a contact attempt that happened. Facts are always stored, never dropped.

    With ``attempt`` (the pending attempt of a permit) the outcome completes that attempt
    instead of adding another. The attempt is judged against the policy as it stood at
    ``occurred_at`` (the attempt itself left out of the history): ``breach`` and
    ``breach_reasons`` say whether, and why, it broke the policy.
    """
    if channel not in Channel.values:
        raise GateInputError(_("Unknown channel %(channel)s.") % {"channel": channel})
    if direction not in Direction.values:
        raise GateInputError(_("Unknown direction %(direction)s.") % {"direction": direction})
    if outcome not in RECORDABLE_OUTCOMES:
        raise GateInputError(_("Unknown outcome %(outcome)s.") % {"outcome": outcome})
    if django_tz.is_naive(occurred_at):
        raise GateInputError(_("occurred_at must carry a time zone."))
    if loan is not None and loan.debtor_id != debtor.pk:
        raise GateInputError(_("Loan %(loan)s is not the debtor's.") % {"loan": loan.pk})
    if contact_point is not None and contact_point.debtor_id != debtor.pk:
        raise GateInputError(
            _("Contact point %(point)s is not the debtor's.") % {"point": contact_point.pk}
        )
    label, user_id = _actor_fields(actor)
    # Same lock as the gate: a fact and a request for the same debtor do not interleave.
    debtor = Debtor.objects.select_for_update().get(pk=debtor.pk)

    if attempt is not None:
        attempt = ContactAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.debtor_id != debtor.pk or attempt.channel != channel:
            raise GateInputError(_("The attempt is for another debtor or channel."))
        if attempt.outcome != Outcome.PENDING:
            raise GateInputError(_("The attempt's outcome is already recorded."))
        loan = loan if loan is not None else attempt.loan
        contact_point = contact_point if contact_point is not None else attempt.contact_point

    breach, reasons, policy = _judge_fact(
        debtor=debtor,
        channel=channel,
        direction=direction,
        occurred_at=occurred_at,
        loan=loan,
        contact_point=contact_point,
        exclude_attempt_id=getattr(attempt, "pk", None),
    )
    now = django_tz.now()
    if attempt is None:
        attempt = ContactAttempt(
            debtor=debtor, actor_label=label, actor_user_id=user_id, created_at=now
        )
    attempt.loan = loan
    attempt.contact_point = contact_point
    attempt.channel = channel
    attempt.direction = direction
    attempt.outcome = outcome
    attempt.occurred_at = occurred_at
    attempt.breach = breach
    attempt.breach_reasons = reasons
    attempt.breach_policy = policy
    attempt.completed_at = now
    attempt.save()
    return attempt


def permit_attempts_complete(
    *, attempt_ids: list[int], outcome: str, now: dt.datetime | None = None
) -> int:
    """Record one outcome for a batch of attempts made under permits (a dispatcher's sends).

    Such an attempt was judged by the gate when its permit was granted, at the instant it
    carries and with the debtor locked, so it is within the policy: ``breach`` stays false and
    the policy judged against is its decision's. Only attempts still pending and granted by a
    decision change; returns how many did.
    """
    if outcome not in RECORDABLE_OUTCOMES:
        raise GateInputError(_("Unknown outcome %(outcome)s.") % {"outcome": outcome})
    if not attempt_ids:
        return 0
    return ContactAttempt.objects.filter(
        pk__in=attempt_ids, outcome=Outcome.PENDING, decision__isnull=False
    ).update(
        outcome=outcome,
        completed_at=now or django_tz.now(),
        breach=False,
        breach_reasons=[],
        breach_policy_id=Subquery(
            ContactDecision.objects.filter(pk=OuterRef("decision_id")).values("policy_id")[:1]
        ),
    )


POLICY_FIELDS = ("name", "country", "region", "is_default", "is_active", "rules", "source", "notes")


@transaction.atomic
def policy_create(*, actor, slug: str, **fields) -> ContactPolicy:
    """Create the first version of a policy."""
    label, _user_id = _actor_fields(actor)
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown policy fields: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    if ContactPolicy.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("A policy with this slug exists; edit it instead.")})
    policy = ContactPolicy(slug=slug, version=1, is_current=True, created_by_label=label, **fields)
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_save(*, actor, policy: ContactPolicy, **changes) -> ContactPolicy:
    """Change a policy: write a new version with ``changes`` and return it.

    The version it replaces stays as it was (decisions refer to it) and stops being current.
    Editing a version that is no longer current is refused.
    """
    label, _user_id = _actor_fields(actor)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown policy fields: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    current = ContactPolicy.objects.select_for_update().get(pk=policy.pk)
    if not current.is_current:
        raise ValidationError(_("Only the current version of a policy can be changed."))
    fields = {name: getattr(current, name) for name in POLICY_FIELDS}
    fields.update(changes)
    ContactPolicy.objects.filter(pk=current.pk).update(is_current=False)
    new = ContactPolicy(
        slug=current.slug,
        version=current.version + 1,
        is_current=True,
        created_by_label=label,
        **fields,
    )
    new.full_clean(validate_constraints=False)
    new.save()
    return new


@transaction.atomic
def contact_preference_add(
    *,
    actor,
    debtor: Debtor,
    start_time: dt.time,
    end_time: dt.time,
    weekdays: list[int] | None = None,
    channel: str = "",
    kind: str = DebtorContactPreference.Kind.INCONVENIENT,
    source: str = DebtorContactPreference.Source.COLLECTOR,
    note: str = "",
) -> DebtorContactPreference:
    """Record times that do not suit the debtor (the gate blocks them) or suit them best."""
    with acting_as(actor):
        preference = DebtorContactPreference(
            debtor=debtor,
            kind=kind,
            channel=channel,
            weekdays=sorted(set(weekdays or [])),
            start_time=start_time,
            end_time=end_time,
            source=source,
            note=note,
        )
        preference.full_clean()
        preference.save()
    return preference


@transaction.atomic
def contact_preference_remove(*, actor, preference: DebtorContactPreference) -> None:
    with acting_as(actor):
        preference.delete()
