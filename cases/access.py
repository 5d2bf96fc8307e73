"""Who may see which debtor: one rule for pages and the API alike.

A collector sees the debtors of the cases assigned to them; supervisors and admins see all.
Every view fetches objects through these helpers; list querysets are scoped by the same rule.
A refused object answers 404, so a collector cannot even learn that another's debtor exists.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from cases.models import Case
from cases.roles import is_supervisor
from debtors.models import Debtor, Loan


def cases_for_user(user) -> QuerySet[Case]:
    if not user.is_authenticated:
        return Case.objects.none()
    if is_supervisor(user):
        return Case.objects.all()
    return Case.objects.filter(assigned_to=user)


def debtors_for_user(user) -> QuerySet[Debtor]:
    if not user.is_authenticated:
        return Debtor.objects.none()
    if is_supervisor(user):
        return Debtor.objects.all()
    return Debtor.objects.filter(case__assigned_to=user)


def loans_for_user(user) -> QuerySet[Loan]:
    if not user.is_authenticated:
        return Loan.objects.none()
    if is_supervisor(user):
        return Loan.objects.all()
    return Loan.objects.filter(debtor__case__assigned_to=user)


def get_case_for_user(user, case_id) -> Case:
    try:
        return cases_for_user(user).select_related("debtor", "assigned_to").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such case.") from exc


def get_debtor_for_user(user, debtor_id) -> Debtor:
    try:
        return debtors_for_user(user).get(pk=debtor_id)
    except (Debtor.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such debtor.") from exc


def get_loan_for_user(user, loan_id) -> Loan:
    try:
        return loans_for_user(user).select_related("debtor").get(pk=loan_id)
    except (Loan.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such loan.") from exc
