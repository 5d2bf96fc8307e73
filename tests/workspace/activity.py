"""Collectors' work written straight to the tables, for tests that count it: attempts (with a
disposition), promises and payments at chosen instants, so that every figure can be worked
out by hand."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, User

from cases.models import CallDisposition, DispositionCode
from cases.roles import COLLECTOR
from compliance.models import ContactAttempt
from debtors.models import Loan, Payment, PromiseToPay

SHANGHAI = ZoneInfo("Asia/Shanghai")
_refs = itertools.count(1)


def at(*args) -> dt.datetime:
    """An instant given by its Shanghai wall clock."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


def make_collector(username: str) -> User:
    user = User.objects.create_user(username=username, password="test-pass-123")
    user.groups.add(Group.objects.get(name=COLLECTOR))
    return user


def attempt(
    user, debtor, when: dt.datetime, *, channel="call", outcome="conversation", code=None, **extra
) -> ContactAttempt:
    """An attempt ``user`` made; with ``code``, the disposition they gave the call."""
    made = ContactAttempt.objects.create(
        debtor=debtor,
        channel=channel,
        direction=extra.pop("direction", "outbound"),
        outcome=outcome,
        occurred_at=when,
        actor_user=user,
        actor_label=user.username if user else "system: test",
        **extra,
    )
    if code is not None:
        CallDisposition.objects.create(
            attempt=made,
            debtor=debtor,
            code=DispositionCode.objects.get(code=code),
            recorded_by=user,
            recorded_at=when,
        )
    return made


def promise(
    user, loan: Loan, amount: str, *, made: dt.datetime, due: dt.date, status="pending"
) -> PromiseToPay:
    return PromiseToPay.objects.create(
        loan=loan,
        amount=Decimal(amount),
        promised_date=due,
        status=status,
        created_by=user,
        created_at=made,
    )


def payment(loan: Loan, amount: str, when: dt.datetime) -> Payment:
    return Payment.objects.create(
        loan=loan,
        amount=Decimal(amount),
        allocated_amount=Decimal(amount),
        received_at=when,
        method="bank_transfer",
        external_ref=f"T-{next(_refs)}",
    )
