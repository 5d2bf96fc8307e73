"""django-filter filter sets of the API.

A filter naming a related object by id (``?debtor=``, ``?loan=``, ``?case=``) fetches it through
``cases.access``: another collector's object answers 404, as it does by its own URL,
so a filter cannot be used to learn whether it exists.
"""

from __future__ import annotations

import django_filters
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from cases.filters import debtor_filter, loan_filter
from cases.models import Note
from debtors.models import ContactPoint, Installment, Payment, PromiseToPay, RepaymentPlan
from imports.models import ImportJob


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


class NoteFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = Note
        fields = []


class ImportJobFilter(django_filters.FilterSet):
    class Meta:
        model = ImportJob
        fields = ["kind", "status"]
