"""Serializer fields and helpers that several resources share: money, instants, and the
caller's scope for related objects sent by id.

Money travels as strings in the currency's own number of decimal places, never as floating
point. Related objects sent by id are looked up in the caller's scope only
(``cases.access``): an id the caller may not see reads as "does not exist", exactly like an id
nobody has.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.access import debtors_for_user, loans_for_user
from cases.roles import is_supervisor
from debtors.dates import as_utc
from debtors.models import Debtor, Loan
from debtors.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    is_currency,
    quantize,
    validate_amount,
)


def money_string(amount: Decimal | None, currency: str) -> str | None:
    """``Decimal("100.0000")`` in CNY -> ``"100.00"``."""
    if amount is None:
        return None
    return str(quantize(amount, currency)) if is_currency(currency) else str(amount)


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


def check_amount(amount, currency: str, field: str, *, allow_zero: bool = False) -> None:
    """Not negative, not zero (unless allowed), in the currency's places: else a 400 naming
    ``field``."""
    try:
        validate_amount(amount, currency, allow_zero=allow_zero, field=field)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: list(exc.messages)}) from exc


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
        # In UTC: PostgreSQL refuses offsets beyond 16 hours, which Python accepts.
        return as_utc(parsed)


class InstantFilterField(IsoDateTimeField):
    """A query filter's ISO 8601 instant: any one Python can hold, with any offset, taken in
    UTC (a filter's bound may be far off; only a stored value needs to make sense)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        return as_utc(parsed) if parsed is not None else None


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantFilterField


def _caller(serializer):
    """The caller (None while the schema is generated, which has no request)."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def sees_in_full(serializer) -> bool:
    """Whether the caller sees phone numbers and dates of birth in full: supervisors and
    admins do; collectors see them masked and reveal one at a time (logged), as on the
    pages. Without a caller (the schema, a serializer used outside a request): masked."""
    user = _caller(serializer)
    return user is not None and user.is_authenticated and is_supervisor(user)


class PhonesMaskedForCollectors:
    """Serializer mixin: a phone's ``value`` masked unless the caller sees it in full."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.is_phone and not sees_in_full(self):
            data["value"] = instance.masked_value
        return data


def masked_birth_date(day) -> str | None:
    """The year only: ``1985-**-**``."""
    return None if day is None else f"{day.year:04d}-**-**"


def scoped_loans(serializer):
    """The loans the serializer's caller may see (none while the schema is generated)."""
    user = _caller(serializer)
    return loans_for_user(user) if user is not None else Loan.objects.none()


def scoped_debtors(serializer):
    """The debtors the serializer's caller may see (none while the schema is generated)."""
    user = _caller(serializer)
    return debtors_for_user(user) if user is not None else Debtor.objects.none()
