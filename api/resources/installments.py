"""Installments (``/installments/``): the due dates and amounts of loans, read only."""

from __future__ import annotations

import django_filters
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework import generics, serializers

from api.base import ApiView
from api.fields import MoneyStringField
from cases.access import loans_for_user
from cases.filters import loan_filter
from debtors.models import Installment


class InstallmentDetailSerializer(serializers.ModelSerializer):
    amount_due = MoneyStringField(lambda i: i.loan.currency)
    amount_paid = MoneyStringField(lambda i: i.loan.currency)

    class Meta:
        model = Installment
        fields = ["id", "loan", "sequence", "due_date", "amount_due", "amount_paid", "paid_at"]
        read_only_fields = fields


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


def _installments(user):
    return Installment.objects.filter(loan__in=loans_for_user(user)).select_related("loan")


class InstallmentListView(ApiView, generics.ListAPIView):
    serializer_class = InstallmentDetailSerializer
    filterset_class = InstallmentFilter
    scope = staticmethod(_installments)


class InstallmentDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = InstallmentDetailSerializer
    scope = staticmethod(_installments)
