"""Validation of the ledger's identifiers (countries, time zones, phone numbers, emails), and
how a service's ``ValidationError`` is shown on a form (``apply_errors``)."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import phonenumbers
from babel import Locale
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from debtors import dates


@lru_cache(maxsize=1)
def iso_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from CLDR, via babel)."""
    return frozenset(
        code
        for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code != "ZZ"
    )


@lru_cache(maxsize=1)
def iana_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_country(value: str) -> None:
    if value not in iso_countries():
        raise ValidationError(
            _("Unknown country code %(code)s (expected ISO 3166 alpha-2, e.g. CN).")
            % {"code": value},
            code="unknown_country",
        )


def validate_timezone(value: str) -> None:
    """An unknown zone is an error, never a silent UTC."""
    if value and value not in iana_timezones():
        raise ValidationError(
            _("Unknown time zone %(zone)s (expected an IANA name such as Asia/Shanghai).")
            % {"zone": value},
            code="unknown_timezone",
        )


def normalize_phone(value: str, region: str | None) -> str:
    """Return the number in E.164, or raise a ValidationError naming what is wrong."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(value)s is not a phone number (%(detail)s).") % {"value": raw, "detail": exc._msg},
            code="invalid_phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number for its country.") % {"value": raw},
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    raw = (value or "").strip()
    try:
        validate_email(raw)
    except ValidationError as exc:
        raise ValidationError(
            _("%(value)s is not a valid email address.") % {"value": raw}, code="invalid_email"
        ) from exc
    local, _at, domain = raw.rpartition("@")
    return f"{local}@{domain.lower()}"


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` on ``form``: each field's messages beside the field
    (the form's own errors when the form has no such field), others at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def validate_birth_date(value) -> None:
    """From 1900 to today (``debtors.dates``)."""
    dates.birth_date(value, today=timezone.localdate(), field=None)
