"""Loans (``/loans/``): listed (optionally for one debtor), created with their installments,
and read. Money is rendered in the currency's own number of places.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.errors import duplicate_ref_error
from api.fields import MoneyField, money_string
from api.permissions import ReadAnyWriteSupervisor
from cases.access import debtors_for_user, loans_for_user
from cases.filters import debtor_filter
from debtors.models import Debtor, Loan
from debtors.money import validate_amount, validate_currency
from debtors.services import loan_create

# The 404 of every other route to a loan (``cases.access``, the ``?loan=`` filters).
NO_SUCH_LOAN = "No such loan."


class InstallmentInputSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    amount = MoneyField()


class LoanCreateSerializer(serializers.Serializer):
    external_ref = serializers.CharField(max_length=64)
    debtor = serializers.PrimaryKeyRelatedField(queryset=Debtor.objects.none())
    product = serializers.CharField(max_length=64, required=False, allow_blank=True)
    currency = serializers.CharField(max_length=3, validators=[validate_currency])
    principal = MoneyField()
    opened_on = serializers.DateField(required=False)
    installments = InstallmentInputSerializer(many=True, allow_empty=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # None while the schema is generated
            self.fields["debtor"].queryset = debtors_for_user(request.user)

    def validate_external_ref(self, value: str) -> str:
        if Loan.objects.filter(external_ref=value).exists():
            raise serializers.ValidationError(
                _("A loan with external reference %(ref)s already exists.") % {"ref": value}
            )
        return value

    def validate(self, attrs: dict) -> dict:
        """Amounts: not negative, not zero, and in the currency's number of places."""
        currency = attrs["currency"]
        errors: dict = {}
        try:
            validate_amount(attrs["principal"], currency, allow_zero=False, field="principal")
        except DjangoValidationError as exc:
            errors["principal"] = list(exc.messages)
        installment_errors: list[dict] = []
        for installment in attrs["installments"]:
            try:
                validate_amount(installment["amount"], currency, allow_zero=False)
            except DjangoValidationError as exc:
                installment_errors.append({"amount": list(exc.messages)})
            else:
                installment_errors.append({})
        if any(installment_errors):
            errors["installments"] = installment_errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class InstallmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    due_date = serializers.DateField()
    amount_due = serializers.SerializerMethodField()
    amount_paid = serializers.SerializerMethodField()

    def get_amount_due(self, installment) -> str:
        return money_string(installment.amount_due, installment.loan.currency)

    def get_amount_paid(self, installment) -> str:
        return money_string(installment.amount_paid, installment.loan.currency)


class LoanSerializer(serializers.ModelSerializer):
    MONEY_FIELDS = (
        "principal",
        "principal_balance",
        "interest_balance",
        "fees_balance",
        "credit_balance",
    )

    installments = InstallmentSerializer(many=True, read_only=True)
    outstanding = serializers.SerializerMethodField()

    class Meta:
        model = Loan
        fields = [
            "id",
            "external_ref",
            "debtor",
            "product",
            "currency",
            "principal",
            "principal_balance",
            "interest_balance",
            "fees_balance",
            "credit_balance",
            "outstanding",
            "opened_on",
            "status",
            "oldest_unpaid_due_date",
            "installments",
            "created_at",
        ]
        read_only_fields = fields

    def get_outstanding(self, loan: Loan) -> str:
        return money_string(loan.outstanding, loan.currency)

    def to_representation(self, loan: Loan) -> dict:
        data = super().to_representation(loan)
        for name in self.MONEY_FIELDS:
            data[name] = money_string(getattr(loan, name), loan.currency)
        return data


class LoanFilter(django_filters.FilterSet):
    debtor = debtor_filter()

    class Meta:
        model = Loan
        fields = []


def _loans(user):
    return loans_for_user(user).prefetch_related("installments__loan")


class LoanListCreateView(ApiView, generics.ListAPIView):
    permission_classes = [ReadAnyWriteSupervisor]
    serializer_class = LoanSerializer
    filterset_class = LoanFilter
    scope = staticmethod(_loans)

    @extend_schema(request=LoanCreateSerializer, responses={201: LoanSerializer})
    def post(self, request):
        data = LoanCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["installments"] = [
            (item["due_date"], item["amount"]) for item in fields["installments"]
        ]
        try:
            loan = loan_create(actor=request.user, **fields)
        except IntegrityError:
            error = duplicate_ref_error(Loan, fields["external_ref"])
            if error is None:
                raise
            raise error from None
        loan = self.get_queryset().get(pk=loan.pk)
        return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)


class LoanDetailView(ApiView, generics.RetrieveAPIView):
    serializer_class = LoanSerializer
    scope = staticmethod(_loans)
    lookup_url_kwarg = "loan_id"
    not_found_message = NO_SUCH_LOAN
