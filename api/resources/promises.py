"""Promises to pay (``/promises/``): recorded, listed and read."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import MoneyField, MoneyStringField, check_amount, scoped_loans
from cases.access import loans_for_user
from cases.filters import loan_filter
from cases.services import promise_record
from debtors.models import PromiseToPay


class PromiseSerializer(serializers.ModelSerializer):
    amount = MoneyStringField(lambda p: p.loan.currency)

    class Meta:
        model = PromiseToPay
        fields = ["id", "loan", "amount", "promised_date", "status", "created_at", "resolved_at"]
        read_only_fields = fields


class PromiseCreateSerializer(serializers.Serializer):
    loan = serializers.PrimaryKeyRelatedField(queryset=PromiseToPay.objects.none())
    amount = MoneyField()
    promised_date = serializers.DateField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loan"].queryset = scoped_loans(self)

    def validate(self, attrs: dict) -> dict:
        check_amount(attrs["amount"], attrs["loan"].currency, "amount")
        return attrs


class PromiseFilter(django_filters.FilterSet):
    loan = loan_filter()
    promised_after = django_filters.DateFilter(field_name="promised_date", lookup_expr="gte")
    promised_before = django_filters.DateFilter(field_name="promised_date", lookup_expr="lte")

    class Meta:
        model = PromiseToPay
        fields = ["status"]


def _promises(user):
    return PromiseToPay.objects.filter(loan__in=loans_for_user(user)).select_related("loan")


class PromiseListCreateView(ApiView, generics.ListAPIView):
    serializer_class = PromiseSerializer
    filterset_class = PromiseFilter
    scope = staticmethod(_promises)

    @extend_schema(request=PromiseCreateSerializer, responses={201: PromiseSerializer})
    def post(self, request):
        data = PromiseCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        promise = promise_record(actor=request.user, **data.validated_data)
        return Response(PromiseSerializer(promise).data, status=status.HTTP_201_CREATED)


class PromiseDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = PromiseSerializer
    scope = staticmethod(_promises)
