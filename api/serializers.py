"""Serializers: the shape of the API's JSON, and the input checks that name the bad field.

They hold no business rules. Writes go to the services; a service's own ``ValidationError``
becomes a 400 as well (see ``errors``). Money travels as strings in the currency's own number
of decimal places, never as floating point.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.access import debtors_for_user, loans_for_user
from compliance.models import ContactAttempt, ContactPolicy, Direction, Outcome
from debtors.models import Channel, ContactPoint, Debtor, Language, Loan
from debtors.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    is_currency,
    quantize,
    validate_amount,
    validate_currency,
)
from debtors.validators import (
    normalize_email,
    normalize_phone,
    validate_country,
    validate_timezone,
)

HOLD_FIELDS = ("dispute", "bankruptcy", "deceased", "cease_communication")


def money_string(amount: Decimal | None, currency: str) -> str | None:
    """``Decimal("100.0000")`` in CNY -> ``"100.00"``."""
    if amount is None:
        return None
    return str(quantize(amount, currency)) if is_currency(currency) else str(amount)


def _messages(exc: DjangoValidationError) -> list[str]:
    """The plain messages of a Django error, whatever field it named inside."""
    return list(exc.messages)


class MoneyField(serializers.DecimalField):
    """An amount sent as a JSON string (or an integer), never a float.

    The currency's own number of places is checked by the serializer that knows the currency.
    """

    default_error_messages = {
        "float": _('Send amounts as strings (for example "100.50"), not as floating point.'),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its UTC offset (``...+08:00`` or ``...Z``).

    A time without an offset would be read in whatever zone happens to be active, which for a
    compliance check is a guess; it is refused instead.
    """

    default_error_messages = {
        "invalid": _(
            "{value} is not an ISO 8601 date and time (expected for example "
            "2026-03-08T14:30:00+08:00)."
        ),
        "naive": _(
            "{value} has no UTC offset; give one, for example 2026-03-08T14:30:00+08:00 "
            "or 2026-03-08T06:30:00Z."
        ),
        "out_of_range": _("{value} is outside the years {first} to {last}."),
    }
    # Contact history and policy windows are computed around the instant; far-off years are
    # typing mistakes, and would overflow the calendar arithmetic.
    FIRST_YEAR, LAST_YEAR = 1970, 2199

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", value=value)
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid", value=value)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive", value=value)
        if not self.FIRST_YEAR <= parsed.year <= self.LAST_YEAR:
            self.fail("out_of_range", value=value, first=self.FIRST_YEAR, last=self.LAST_YEAR)
        return parsed


# --- Debtors --------------------------------------------------------------------------------


class ContactPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPoint
        fields = [
            "id",
            "kind",
            "value",
            "owner",
            "owner_name",
            "label",
            "country",
            "timezone",
            "status",
            "is_primary",
        ]
        read_only_fields = fields


class DebtorSerializer(serializers.ModelSerializer):
    """A debtor as the API shows it. The national id is always masked."""

    national_id = serializers.CharField(source="masked_national_id", read_only=True)
    contact_points = ContactPointSerializer(many=True, read_only=True)
    opt_outs = serializers.SerializerMethodField()

    class Meta:
        model = Debtor
        fields = [
            "id",
            "external_ref",
            "full_name",
            "national_id",
            "date_of_birth",
            "country",
            "region",
            "preferred_language",
            "timezone",
            *HOLD_FIELDS,
            "hardship_pause_until",
            "opt_outs",
            "contact_points",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_opt_outs(self, debtor: Debtor) -> list[str]:
        # Debtor-level opt-outs only (a row without a contact point covers every point).
        # Uses the prefetched consents when the view prefetched them.
        return sorted(
            consent.channel
            for consent in debtor.channel_consents.all()
            if consent.contact_point_id is None and consent.is_opted_out
        )


class ContactPointInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContactPoint.Kind.choices)
    value = serializers.CharField(max_length=500)
    owner = serializers.ChoiceField(
        choices=ContactPoint.Owner.choices, default=ContactPoint.Owner.SELF
    )
    owner_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    label = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=2, required=False, allow_blank=True, validators=[validate_country]
    )
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, validators=[validate_timezone]
    )
    is_primary = serializers.BooleanField(required=False)


class DebtorCreateSerializer(serializers.Serializer):
    external_ref = serializers.CharField(max_length=64)
    full_name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2, validators=[validate_country])
    region = serializers.CharField(max_length=16, required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, validators=[validate_timezone]
    )
    preferred_language = serializers.ChoiceField(choices=Language.choices, required=False)
    national_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    contact_points = ContactPointInputSerializer(many=True, required=False)

    def validate_external_ref(self, value: str) -> str:
        if Debtor.objects.filter(external_ref=value).exists():
            raise serializers.ValidationError(
                _("A debtor with external reference %(ref)s already exists.") % {"ref": value}
            )
        return value

    def validate(self, attrs: dict) -> dict:
        """Phones must be valid for their country, emails well formed (named per item)."""
        errors: list[dict] = []
        for point in attrs.get("contact_points", []):
            item_errors: dict = {}
            try:
                if point["kind"] in ContactPoint.PHONE_KINDS:
                    normalize_phone(point["value"], attrs.get("country"))
                elif point["kind"] == ContactPoint.Kind.EMAIL:
                    normalize_email(point["value"])
            except DjangoValidationError as exc:
                item_errors["value"] = _messages(exc)
            errors.append(item_errors)
        if any(errors):
            raise serializers.ValidationError({"contact_points": errors})
        return attrs


class DebtorHoldsSerializer(serializers.Serializer):
    """``PATCH /debtors/{id}/``: the holds and the debtor-level opted-out channels."""

    dispute = serializers.BooleanField(required=False)
    bankruptcy = serializers.BooleanField(required=False)
    deceased = serializers.BooleanField(required=False)
    cease_communication = serializers.BooleanField(required=False)
    hardship_pause_until = serializers.DateField(required=False, allow_null=True)
    opt_outs = serializers.ListField(
        child=serializers.ChoiceField(choices=Channel.choices), required=False, allow_empty=True
    )

    def validate(self, attrs: dict) -> dict:
        # A field that cannot be changed here must not look as if it had been.
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: [_("This field cannot be changed here.")] for name in unknown}
            )
        if "opt_outs" in attrs:
            attrs["opt_outs"] = sorted(set(attrs["opt_outs"]))
        return attrs


# --- Loans ----------------------------------------------------------------------------------


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
            errors["principal"] = _messages(exc)
        installment_errors: list[dict] = []
        for installment in attrs["installments"]:
            try:
                validate_amount(installment["amount"], currency, allow_zero=False)
            except DjangoValidationError as exc:
                installment_errors.append({"amount": _messages(exc)})
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


# --- Contact eligibility and permits --------------------------------------------------------


class ContactTargetSerializer(serializers.Serializer):
    """A channel, and optionally a loan and a contact point, all of one debtor."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    loan = serializers.PrimaryKeyRelatedField(
        queryset=Loan.objects.none(), required=False, allow_null=True
    )
    contact_point = serializers.PrimaryKeyRelatedField(
        queryset=ContactPoint.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        debtor = self.context.get("debtor")
        if debtor is None:  # the schema is being generated
            return
        # Only this debtor's loans and contact points: anything else is "does not exist".
        self.fields["loan"].queryset = Loan.objects.filter(debtor=debtor)
        self.fields["contact_point"].queryset = ContactPoint.objects.filter(debtor=debtor)


class EligibilityQuerySerializer(ContactTargetSerializer):
    at = AwareDateTimeField(required=False, allow_null=True)

    def to_internal_value(self, data):
        # ``?at=`` (empty) means "now", like leaving it out.
        if hasattr(data, "dict"):
            data = data.dict()
        if data.get("at") == "":
            data = {**data, "at": None}
        return super().to_internal_value(data)


class DecisionSerializer(serializers.Serializer):
    """The gate's answer; also the body of a 409 for a refused permit."""

    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    next_allowed_at = serializers.DateTimeField(allow_null=True)
    timezones = serializers.ListField(child=serializers.CharField())
    policy = serializers.CharField(allow_null=True)
    policy_version = serializers.IntegerField(allow_null=True)


def decision_body(decision) -> dict:
    """The gate's ``Decision`` as JSON, its instant rendered like every other one of the API."""
    data = decision.as_dict()
    data["next_allowed_at"] = decision.next_allowed_at
    return DecisionSerializer(data).data


class PermitSerializer(serializers.Serializer):
    permit = serializers.CharField(source="token")
    expires_at = serializers.DateTimeField()
    # The pending attempt the permit counts as; send it with the outcome to complete it.
    attempt = serializers.IntegerField(source="attempt_id")


# --- Contact attempts -----------------------------------------------------------------------


class ContactAttemptInputSerializer(serializers.Serializer):
    """A contact that already happened. ``pending`` is the gate's own outcome for a permit."""

    debtor = serializers.PrimaryKeyRelatedField(queryset=Debtor.objects.none())
    loan = serializers.PrimaryKeyRelatedField(
        queryset=Loan.objects.none(), required=False, allow_null=True
    )
    contact_point = serializers.PrimaryKeyRelatedField(
        queryset=ContactPoint.objects.none(), required=False, allow_null=True
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices)
    outcome = serializers.ChoiceField(
        choices=[(value, label) for value, label in Outcome.choices if value != Outcome.PENDING]
    )
    occurred_at = AwareDateTimeField()
    attempt = serializers.PrimaryKeyRelatedField(
        queryset=ContactAttempt.objects.none(),
        required=False,
        allow_null=True,
        help_text=_(
            "The pending attempt of a permit (its id is returned with the permit): the outcome "
            "completes that attempt instead of adding another."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema is being generated
            return
        user = request.user
        visible = debtors_for_user(user)
        self.fields["debtor"].queryset = visible
        self.fields["loan"].queryset = loans_for_user(user)
        self.fields["contact_point"].queryset = ContactPoint.objects.filter(debtor__in=visible)
        self.fields["attempt"].queryset = ContactAttempt.objects.filter(
            debtor__in=visible, outcome=Outcome.PENDING
        )

    def validate(self, attrs: dict) -> dict:
        debtor = attrs["debtor"]
        errors = {}
        loan = attrs.get("loan")
        if loan is not None and loan.debtor_id != debtor.pk:
            errors["loan"] = [_("This loan is not one of the debtor's.")]
        point = attrs.get("contact_point")
        if point is not None and point.debtor_id != debtor.pk:
            errors["contact_point"] = [_("This contact point is not one of the debtor's.")]
        attempt = attrs.get("attempt")
        if attempt is not None and attempt.debtor_id != debtor.pk:
            errors["attempt"] = [_("This attempt is not one of the debtor's.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ContactAttemptSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "debtor",
            "loan",
            "contact_point",
            "channel",
            "direction",
            "outcome",
            "occurred_at",
            "breach",
            "breach_reasons",
            "recorded_by",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


# --- Contact policies -----------------------------------------------------------------------


class ContactPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPolicy
        fields = [
            "id",
            "slug",
            "version",
            "name",
            "country",
            "region",
            "is_default",
            "is_active",
            "is_current",
            "rules",
            "source",
            "notes",
            "created_at",
            "created_by_label",
        ]
        read_only_fields = fields


class ContactPolicyInputSerializer(serializers.Serializer):
    """A whole policy version (``PUT`` replaces every field; the slug stays)."""

    name = serializers.CharField(max_length=200)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    is_default = serializers.BooleanField(required=False, default=False)
    is_active = serializers.BooleanField(required=False, default=True)
    rules = serializers.JSONField()
    source = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_rules(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                _("The rules are an object with one entry per channel.")
            )
        return value


class ContactPolicyCreateSerializer(ContactPolicyInputSerializer):
    slug = serializers.SlugField(max_length=64)
