"""django-filter filter sets of the API.

A filter naming a related object by id (``?debtor=``, ``?loan=``, ``?case=``) fetches it through
``collections_app.access``: another collector's object answers 404, as it does by its own URL,
so a filter cannot be used to learn whether it exists.
"""

from __future__ import annotations

import django_filters
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from collections_app.access import get_debtor_for_user, get_loan_for_user
from collections_app.models import Case, ImportJob, Note
from debtors.models import ContactPoint, Installment, Payment, PromiseToPay, RepaymentPlan


class ScopedIdFilter(django_filters.NumberFilter):
    """``?debtor=<id>``: filters on an object the caller may see, or answers 404."""

    def __init__(self, *args, access=None, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)
        self.access = access

    def filter(self, queryset, value):
        if value in (None, ""):
            return queryset
        target = self.access(self.parent.request.user, int(value))
        return queryset.filter(**{self.field_name: target})


def debtor_filter(field_name: str = "debtor"):
    return ScopedIdFilter(field_name=field_name, access=get_debtor_for_user, label=_("debtor id"))


def loan_filter(field_name: str = "loan"):
    return ScopedIdFilter(field_name=field_name, access=get_loan_for_user, label=_("loan id"))


class PaymentFilter(django_filters.FilterSet):
    loan = loan_filter()
    debtor = debtor_filter("loan__debtor")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Payment
        fields = ["method", "source", "external_ref"]


class ContactPointFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = ContactPoint
        fields = ["kind", "status", "owner"]


class InstallmentFilter(django_filters.FilterSet):
    loan = loan_filter()
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    paid = django_filters.BooleanFilter(method="filter_paid", label=_("fully paid"))

    class Meta:
        model = Installment
        fields = []

    def filter_paid(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(amount_paid__gte=F("amount_due"))
        return queryset.filter(amount_paid__lt=F("amount_due"))


class PlanFilter(django_filters.FilterSet):
    loan = loan_filter()

    class Meta:
        model = RepaymentPlan
        fields = ["status", "frequency"]


class PromiseFilter(django_filters.FilterSet):
    loan = loan_filter()
    promised_after = django_filters.DateFilter(field_name="promised_date", lookup_expr="gte")
    promised_before = django_filters.DateFilter(field_name="promised_date", lookup_expr="lte")

    class Meta:
        model = PromiseToPay
        fields = ["status"]


class CaseFilter(django_filters.FilterSet):
    debtor = debtor_filter()
    assigned_to = django_filters.NumberFilter(field_name="assigned_to", min_value=1)
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull")
    min_days_past_due = django_filters.NumberFilter(
        field_name="max_days_past_due", lookup_expr="gte", min_value=0
    )
    next_action_before = django_filters.DateFilter(field_name="next_action_on", lookup_expr="lte")

    class Meta:
        model = Case
        fields = ["status"]


class NoteFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = Note
        fields = []


class ImportJobFilter(django_filters.FilterSet):
    class Meta:
        model = ImportJob
        fields = ["kind", "status"]
