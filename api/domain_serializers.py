"""Serializers of the rest of the domain: payments, contact points, installments, plans,
promises, cases, notes, strategies, templates and imports.

Related objects sent by id are looked up in the caller's scope only (``cases.access``):
an id the caller may not see reads as "does not exist", exactly like an id nobody has.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    AwareDateTimeField,
    ContactPointInputSerializer,
    MoneyField,
    money_string,
)
from cases.access import debtors_for_user, loans_for_user
from cases.models import Case, Note
from cases.roles import COLLECTOR
from debtors.models import (
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
from debtors.money import validate_amount
from imports.models import ImportIssue, ImportJob, ImportKind
from messaging.models import MessageTemplate
from reminders.models import ReminderStage, ReminderStrategy


class MoneyStringField(serializers.Field):
    """An amount rendered as a string in its currency's places (``currency_of`` finds it)."""

    def __init__(self, currency_of, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.currency_of = currency_of

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        return money_string(getattr(instance, self.field_name), self.currency_of(instance))


extend_schema_field({"type": "string", "example": "100.00"})(MoneyStringField)


def _user(serializer):
    """The caller (None while the schema is generated, which has no request)."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _scoped_loans(serializer):
    user = _user(serializer)
    return loans_for_user(user) if user is not None else Loan.objects.none()


def _scoped_debtors(serializer):
    user = _user(serializer)
    return debtors_for_user(user) if user is not None else Debtor.objects.none()


def _check_amount(amount, currency: str, field: str, *, allow_zero: bool = False) -> None:
    try:
        validate_amount(amount, currency, allow_zero=allow_zero, field=field)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: list(exc.messages)}) from exc


# --- Payments -------------------------------------------------------------------------------


class PaymentAllocationSerializer(serializers.ModelSerializer):
    amount = MoneyStringField(lambda a: a.payment.loan.currency)

    class Meta:
        model = PaymentAllocation
        fields = ["installment", "plan_installment", "amount"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyStringField(lambda p: p.loan.currency)
    allocated_amount = MoneyStringField(lambda p: p.loan.currency)
    credit_amount = MoneyStringField(lambda p: p.loan.currency)
    allocations = PaymentAllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "loan",
            "amount",
            "received_at",
            "method",
            "source",
            "external_ref",
            "allocated_amount",
            "credit_amount",
            "allocations",
            "created_at",
        ]
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    loan = serializers.PrimaryKeyRelatedField(queryset=Payment.objects.none())
    amount = MoneyField()
    received_at = AwareDateTimeField()
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    external_ref = serializers.CharField(
        max_length=128,
        required=False,
        help_text=_(
            "The payment's reference in the reporting system. Without it, the Idempotency-Key "
            "header identifies the payment."
        ),
    )
    source = serializers.CharField(max_length=64, required=False, default="api")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loan"].queryset = _scoped_loans(self)

    def validate(self, attrs: dict) -> dict:
        loan = attrs["loan"]
        _check_amount(attrs["amount"], loan.currency, "amount")
        return attrs


# --- Contact points -------------------------------------------------------------------------


class ContactPointDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "debtor",
            "kind",
            "value",
            "owner",
            "owner_name",
            "label",
            "country",
            "timezone",
            "status",
            "is_primary",
            "created_at",
        ]
        read_only_fields = fields


class ContactPointCreateSerializer(ContactPointInputSerializer):
    debtor = serializers.PrimaryKeyRelatedField(queryset=ContactPoint.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debtor"].queryset = _scoped_debtors(self)


class ContactPointStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ContactPoint.Status.choices)


# --- Installments ---------------------------------------------------------------------------


class InstallmentDetailSerializer(serializers.ModelSerializer):
    amount_due = MoneyStringField(lambda i: i.loan.currency)
    amount_paid = MoneyStringField(lambda i: i.loan.currency)

    class Meta:
        model = Installment
        fields = ["id", "loan", "sequence", "due_date", "amount_due", "amount_paid", "paid_at"]
        read_only_fields = fields


# --- Plans and promises ---------------------------------------------------------------------


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
        self.fields["loan"].queryset = _scoped_loans(self)

    def validate(self, attrs: dict) -> dict:
        if "discount_amount" in attrs:
            _check_amount(
                attrs["discount_amount"], attrs["loan"].currency, "discount_amount", allow_zero=True
            )
        return attrs


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
        self.fields["loan"].queryset = _scoped_loans(self)

    def validate(self, attrs: dict) -> dict:
        _check_amount(attrs["amount"], attrs["loan"].currency, "amount")
        return attrs


# --- Cases and notes ------------------------------------------------------------------------


class CaseSerializer(serializers.ModelSerializer):
    total_outstanding = serializers.DecimalField(max_digits=19, decimal_places=2, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "debtor",
            "assigned_to",
            "status",
            "next_action_on",
            "max_days_past_due",
            "total_outstanding",
            "broken_promises",
            "last_contact_at",
            "priority",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CaseAssignSerializer(serializers.Serializer):
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.none(),
        allow_null=True,
        help_text=_("A collector's user id, or null to unassign."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = get_user_model().objects.filter(
            groups__name=COLLECTOR, is_active=True
        )


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "debtor", "author", "body", "created_at"]
        read_only_fields = fields

    def get_author(self, note: Note) -> str:
        return note.author.get_username() if note.author_id else ""


class NoteCreateSerializer(serializers.Serializer):
    debtor = serializers.PrimaryKeyRelatedField(queryset=Note.objects.none())
    body = serializers.CharField(max_length=5000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["debtor"].queryset = _scoped_debtors(self)


# --- Strategies and templates ---------------------------------------------------------------


class ReminderStageSerializer(serializers.ModelSerializer):
    # A call task has no template: the key may be empty, which a slug pattern would refuse.
    template_key = serializers.CharField(read_only=True)

    class Meta:
        model = ReminderStage
        fields = [
            "id",
            "name",
            "offset_days",
            "channel",
            "template_key",
            "risk_bands",
            "products",
            "min_balance",
            "max_balance",
            "has_active_plan",
            "is_active",
        ]
        read_only_fields = fields


class ReminderStrategySerializer(serializers.ModelSerializer):
    stages = ReminderStageSerializer(many=True, read_only=True)

    class Meta:
        model = ReminderStrategy
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "risk_bands",
            "is_default",
            "is_active",
            "stages",
            "created_at",
        ]
        read_only_fields = fields


class MessageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "key", "channel", "language", "subject", "body", "updated_at"]
        read_only_fields = fields


# --- Imports --------------------------------------------------------------------------------


class ImportJobSerializer(serializers.ModelSerializer):
    valid_rows = serializers.IntegerField(read_only=True)
    uploaded_by = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "original_name",
            "dry_run",
            "valid_rows_only",
            "status",
            "phase",
            "progress",
            "total_rows",
            "valid_rows",
            "invalid_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "error",
            "uploaded_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)
    valid_rows_only = serializers.BooleanField(required=False, default=False)

    def validate_file(self, value):
        name = (value.name or "").lower()
        if not name.endswith((".csv", ".xlsx", ".txt")):
            raise serializers.ValidationError(_("Upload a .csv or .xlsx file."))
        return value


class ImportIssueSerializer(serializers.ModelSerializer):
    message = serializers.CharField(read_only=True)

    class Meta:
        model = ImportIssue
        fields = ["line", "column", "code", "value", "message"]
        read_only_fields = fields
