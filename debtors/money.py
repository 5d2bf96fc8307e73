"""Money: ``Decimal`` amounts in a currency's own number of places (ISO 4217)."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision, list_currencies
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ZERO = Decimal("0")
# Database columns hold four places: enough for every ISO 4217 currency (CLF has four).
MONEY_MAX_DIGITS = 19
MONEY_DECIMAL_PLACES = 4

_CURRENCIES = frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return code in _CURRENCIES


def validate_currency(code: str) -> None:
    if not is_currency(code):
        raise ValidationError(
            _("Unknown currency code %(code)s (expected ISO 4217, e.g. CNY).") % {"code": code},
            code="unknown_currency",
        )


def currency_places(code: str) -> int:
    return get_currency_precision(code)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's places (for computed amounts such as plan splits)."""
    exponent = Decimal(1).scaleb(-currency_places(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def quantize_down(amount: Decimal, currency: str) -> Decimal:
    """Truncate to the currency's places (so a split never exceeds its total)."""
    exponent = Decimal(1).scaleb(-currency_places(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_DOWN)


def validate_amount(
    amount: Decimal, currency: str, *, allow_zero: bool = True, field: str = "amount"
) -> Decimal:
    """Check that an entered amount is a non-negative ``Decimal`` in the currency's places."""
    if isinstance(amount, float):
        raise ValidationError(
            {field: _("Amounts must be decimal, not floating point.")}, code="float_amount"
        )
    try:
        amount = Decimal(amount)
    except Exception as exc:  # noqa: BLE001 - any unparsable input is the same user error
        raise ValidationError(
            {field: _("%(value)s is not an amount.") % {"value": amount}}, code="invalid_amount"
        ) from exc
    if not amount.is_finite():
        raise ValidationError(
            {field: _("%(value)s is not an amount.") % {"value": amount}}, code="invalid_amount"
        )
    if amount < 0:
        raise ValidationError(
            {field: _("The amount must not be negative (got %(value)s).") % {"value": amount}},
            code="negative_amount",
        )
    if not allow_zero and amount == 0:
        raise ValidationError(
            {field: _("The amount must be greater than zero.")}, code="zero_amount"
        )
    places = currency_places(currency)
    if -amount.as_tuple().exponent > places and amount != quantize(amount, currency):
        raise ValidationError(
            {
                field: _(
                    "%(currency)s amounts have at most %(places)d decimal places (got %(value)s)."
                )
                % {"currency": currency, "places": places, "value": amount}
            },
            code="too_many_places",
        )
    return amount
