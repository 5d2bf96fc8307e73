"""Repayment plans (``/plans/``): proposed from the calculator's inputs, listed and read."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.fields import MoneyField, MoneyStringField, check_amount, scoped_loans
from cases.access import loans_for_user
from cases.filters import loan_filter
from cases.services import plan_propose
from debtors.models import PlanInstallment, RepaymentPlan


class PlanInstallmentSerializer(serializers.ModelSerializer):
    amount_due = MoneyStringField(lambda i: i.plan.loan.currency)
    amount_paid = MoneyStringField(lambda i: i.plan.loan.currency)

    class Meta:
        model = PlanInstallment
        fields = ["id", "sequence", "due_date", "amount_due", "amount_paid", "paid_at"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    outstanding_at_creation = MoneyStringField(lambda p: p.loan.currency)
    total_amount = MoneyStringField(lambda p: p.loan.currency)
    discount_amount = MoneyStringField(lambda p: p.loan.currency)
    installments = PlanInstallmentSerializer(many=True, read_only=True)

    class Meta:
        model = RepaymentPlan
        fields = [
            "id",
            "loan",
            "status",
            "frequency",
            "outstanding_at_creation",
            "total_amount",
            "discount_amount",
            "discount_reason",
            "needs_discount_approval",
            "installments",
            "created_at",
            "activated_at",
            "closed_at",
        ]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    loan = serializers.PrimaryKeyRelatedField(queryset=RepaymentPlan.objects.none())
    count = serializers.IntegerField(min_value=1, max_value=120)
    first_date = serializers.DateField()
    frequency = serializers.ChoiceField(
        choices=RepaymentPlan.Frequency.choices, default=RepaymentPlan.Frequency.MONTHLY
    )
    discount_amount = MoneyField(required=False)
    discount_reason = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loan"].queryset = scoped_loans(self)

    def validate(self, attrs: dict) -> dict:
        if "discount_amount" in attrs:
            check_amount(
                attrs["discount_amount"], attrs["loan"].currency, "discount_amount", allow_zero=True
            )
        return attrs


class PlanFilter(django_filters.FilterSet):
    loan = loan_filter()

    class Meta:
        model = RepaymentPlan
        fields = ["status", "frequency"]


def _plans(user):
    return (
        RepaymentPlan.objects.filter(loan__in=loans_for_user(user))
        .select_related("loan")
        .prefetch_related("installments__plan__loan")
    )


class PlanListCreateView(ApiView, generics.ListAPIView):
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    scope = staticmethod(_plans)

    @extend_schema(request=PlanCreateSerializer, responses={201: PlanSerializer})
    def post(self, request):
        """Propose a plan from the calculator's inputs: without a discount it starts at once,
        with one it waits for a supervisor's approval."""
        data = PlanCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        plan = plan_propose(actor=request.user, **data.validated_data)
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class PlanDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = PlanSerializer
    scope = staticmethod(_plans)
