"""The small path: ``bulk_create`` in chunks, with history (the demo's portfolio).

Every row is written with its final values (the derived fields are computed by
``generator.derive_loan`` / ``derive_case`` before the insert) and gets one historical row
attributed to "system: seed_demo", as if a person had entered it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from cases.models import Case
from compliance.models import ContactAttempt, Direction
from debtors.audit import acting_as, system_actor
from debtors.crypto import blind_index
from debtors.models import (
    Channel,
    ChannelConsent,
    ContactPoint,
    Debtor,
    Installment,
    Loan,
    Payment,
    PaymentAllocation,
    PlanInstallment,
    PromiseToPay,
    RepaymentPlan,
)
from demo.seeding.generator import DebtorRecord, derive_case, derive_loan

ACTOR = "seed_demo"


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def seed_with_orm(
    records: Iterable[DebtorRecord],
    *,
    today: dt.date,
    chunk_debtors: int = 500,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    chunk: list[DebtorRecord] = []
    with acting_as(ACTOR), transaction.atomic():
        for record in records:
            chunk.append(record)
            if len(chunk) >= chunk_debtors:
                _write_chunk(chunk, today, counts)
                chunk = []
                if progress:
                    progress(f"created {counts['debtors.Debtor']} debtors")
        if chunk:
            _write_chunk(chunk, today, counts)
    return counts


def _create(model, objs: list, counts: dict[str, int]) -> list:
    attrs = {"actor_label": system_actor(ACTOR)}
    created = bulk_create_with_history(objs, model, batch_size=500, custom_historical_attrs=attrs)
    counts[model._meta.label] = counts.get(model._meta.label, 0) + len(objs)
    return created


def _write_chunk(records: list[DebtorRecord], today: dt.date, counts: dict[str, int]) -> None:
    debtors = []
    for d in records:
        fields = {
            "external_ref": d.external_ref,
            "full_name": d.full_name,
            "national_id": d.national_id,
            # bulk_create skips save(): the search key is set here.
            "national_id_index": blind_index(d.national_id),
            "date_of_birth": d.date_of_birth,
            "country": d.country,
            "region": d.region,
            "preferred_language": d.preferred_language,
            "timezone": d.timezone,
            "hardship_pause_until": d.hardship_pause_until,
            "hardship_reason": d.hardship_reason,
            "hardship_at": d.hardship_at,
            "created_at": d.created_at,
        }
        for flag, (reason, at) in d.holds.items():
            fields[flag] = True
            fields[f"{flag}_reason"] = reason
            fields[f"{flag}_at"] = at
        debtors.append(Debtor(**fields))
    debtors = _create(Debtor, debtors, counts)

    contacts = []
    for debtor, d in zip(debtors, records, strict=True):
        for c in d.contacts:
            contacts.append(
                ContactPoint(
                    debtor=debtor,
                    kind=c.kind,
                    value=c.value,
                    country=c.country,
                    timezone=c.timezone,
                    label=c.label,
                    owner=c.owner,
                    owner_name=c.owner_name,
                    status=c.status,
                    status_changed_at=c.status_changed_at,
                    is_primary=c.is_primary,
                    created_at=c.created_at,
                )
            )
    contacts = iter(_create(ContactPoint, contacts, counts))
    consents = []
    points_by_debtor = []
    for debtor, d in zip(debtors, records, strict=True):
        points = [next(contacts) for _c in d.contacts]
        points_by_debtor.append(points)
        for c in d.consents:
            consents.append(
                ChannelConsent(
                    debtor=debtor,
                    contact_point=points[c.contact] if c.contact >= 0 else None,
                    channel=c.channel,
                    consented_at=c.consented_at,
                    consent_source=c.consent_source,
                    opted_out_at=c.opted_out_at,
                    opt_out_source=c.opt_out_source,
                )
            )
    _create(ChannelConsent, consents, counts)

    loans = []
    derived_by_debtor = []
    for debtor, d in zip(debtors, records, strict=True):
        derived_loans = []
        for record in d.loans:
            derived = derive_loan(record, today)
            derived_loans.append(derived)
            loans.append(
                Loan(
                    debtor=debtor,
                    external_ref=record.external_ref,
                    product=record.product,
                    currency=record.currency,
                    principal=_money(record.principal),
                    principal_balance=_money(derived.principal_balance),
                    interest_balance=_money(derived.interest_balance),
                    opened_on=record.opened_on,
                    status=derived.status,
                    risk_band=record.risk_band,
                    oldest_unpaid_due_date=derived.oldest_unpaid_due_date,
                    created_at=record.created_at,
                )
            )
        derived_by_debtor.append(derived_loans)
    loans = _create(Loan, loans, counts)
    loan_records = [record for d in records for record in d.loans]

    installments, plans = [], []
    for loan, record in zip(loans, loan_records, strict=True):
        for i in record.installments:
            installments.append(
                Installment(
                    loan=loan,
                    sequence=i.sequence,
                    due_date=i.due_date,
                    amount_due=_money(i.amount_due),
                    amount_paid=_money(i.amount_paid),
                    paid_at=i.paid_at,
                )
            )
        for p in record.plans:
            plans.append(
                RepaymentPlan(
                    loan=loan,
                    status=p.status,
                    frequency=p.frequency,
                    outstanding_at_creation=_money(p.outstanding_at_creation),
                    total_amount=_money(p.total_amount),
                    discount_amount=_money(p.discount_amount),
                    discount_reason=p.discount_reason,
                    discount_approved_at=p.discount_approved_at,
                    created_at=p.created_at,
                    activated_at=p.activated_at,
                    closed_at=p.closed_at,
                )
            )
    installments = iter(_create(Installment, installments, counts))
    plans = iter(_create(RepaymentPlan, plans, counts))

    plan_installments = []
    loan_targets = []  # per loan: (its installments, [its plans' installments])
    for record in loan_records:
        own = [next(installments) for _i in record.installments]
        per_plan = []
        for p in record.plans:
            plan = next(plans)
            these = [
                PlanInstallment(
                    plan=plan,
                    sequence=i.sequence,
                    due_date=i.due_date,
                    amount_due=_money(i.amount_due),
                    amount_paid=_money(i.amount_paid),
                    paid_at=i.paid_at,
                )
                for i in p.installments
            ]
            plan_installments.extend(these)
            per_plan.append(these)
        loan_targets.append((own, per_plan))
    _create(PlanInstallment, plan_installments, counts)

    payments, promises = [], []
    for loan, record in zip(loans, loan_records, strict=True):
        for p in record.payments:
            payments.append(
                Payment(
                    loan=loan,
                    amount=_money(p.amount),
                    received_at=p.received_at,
                    method=p.method,
                    source=p.source,
                    external_ref=p.external_ref,
                    allocated_amount=_money(p.amount),
                    created_at=p.received_at,
                )
            )
        for p in record.promises:
            promises.append(
                PromiseToPay(
                    loan=loan,
                    amount=_money(p.amount),
                    promised_date=p.promised_date,
                    status=p.status,
                    created_at=p.created_at,
                    resolved_at=p.resolved_at,
                )
            )
    payments = iter(_create(Payment, payments, counts))
    _create(PromiseToPay, promises, counts)

    allocations = []
    for record, (own, per_plan) in zip(loan_records, loan_targets, strict=True):
        for p in record.payments:
            payment = next(payments)
            for a in p.allocations:
                allocations.append(
                    PaymentAllocation(
                        payment=payment,
                        installment=own[a.installment] if a.plan < 0 else None,
                        plan_installment=per_plan[a.plan][a.installment] if a.plan >= 0 else None,
                        amount=_money(a.amount),
                    )
                )
    _create(PaymentAllocation, allocations, counts)

    # The calls' history: facts of the past, as an import would record them (no gate now).
    attempts = []
    loan_iter = iter(loans)
    for debtor, d, points in zip(debtors, records, points_by_debtor, strict=True):
        own_loans = [next(loan_iter) for _loan in d.loans]
        for call in d.calls:
            attempts.append(
                ContactAttempt(
                    debtor=debtor,
                    loan=own_loans[call.loan],
                    contact_point=points[0],
                    channel=Channel.CALL,
                    direction=Direction.OUTBOUND,
                    outcome=call.outcome,
                    occurred_at=call.occurred_at,
                    actor_label=system_actor(ACTOR),
                    created_at=call.occurred_at,
                    completed_at=call.occurred_at,
                )
            )
    ContactAttempt.objects.bulk_create(attempts, batch_size=1000)
    counts[ContactAttempt._meta.label] = counts.get(ContactAttempt._meta.label, 0) + len(attempts)

    cases = []
    for debtor, d, derived_loans in zip(debtors, records, derived_by_debtor, strict=True):
        case = derive_case(d, derived_loans, today)
        cases.append(
            Case(
                debtor=debtor,
                status=case.status,
                closed_reason=case.closed_reason,
                closed_at=d.created_at if case.closed_reason else None,
                next_action_on=case.next_action_on,
                max_days_past_due=case.max_days_past_due,
                total_outstanding=_money(case.total_outstanding),
                broken_promises=case.broken_promises,
                created_at=d.created_at,
            )
        )
    _create(Case, cases, counts)
