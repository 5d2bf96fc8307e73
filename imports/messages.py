"""The words of an import report, rendered from an issue's code in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from debtors.models import Loan
from imports.formats import FORMATS

MESSAGES = {
    "required": gettext_lazy("%(column)s is required."),
    "too_long": gettext_lazy("%(value)s is longer than %(max)s characters."),
    "bad_date": gettext_lazy("%(value)s is not a date (expected YYYY-MM-DD, e.g. 2026-03-08)."),
    "bad_instant": gettext_lazy(
        "%(value)s is not a date and time with a UTC offset "
        "(expected e.g. 2026-03-08T14:30:00+08:00)."
    ),
    "bad_amount": gettext_lazy(
        "%(value)s is not an amount (expected digits with a decimal point, e.g. 1234.50)."
    ),
    "negative_amount": gettext_lazy("The amount must not be negative (got %(value)s)."),
    "zero_amount": gettext_lazy("The amount must be greater than zero."),
    "too_many_places": gettext_lazy(
        "%(currency)s amounts have at most %(places)s decimal places (got %(value)s)."
    ),
    "bad_integer": gettext_lazy("%(value)s is not a whole number of 1 or more."),
    "unknown_choice": gettext_lazy("%(value)s is not one of: %(choices)s."),
    "unknown_currency": gettext_lazy(
        "Unknown currency code %(value)s (expected ISO 4217, e.g. CNY)."
    ),
    "unknown_country": gettext_lazy(
        "Unknown country code %(value)s (expected ISO 3166 alpha-2, e.g. CN)."
    ),
    "unknown_timezone": gettext_lazy(
        "Unknown time zone %(value)s (expected an IANA name such as Asia/Shanghai)."
    ),
    "invalid_phone": gettext_lazy("%(value)s is not a valid phone number for the country."),
    "invalid_email": gettext_lazy("%(value)s is not a valid email address."),
    "unknown_debtor": gettext_lazy(
        "No debtor has the reference %(value)s (import the debtors first)."
    ),
    "unknown_loan": gettext_lazy("No loan has the reference %(value)s (import the loans first)."),
    "loan_closed": gettext_lazy("Loan %(value)s is closed (%(status)s); it takes no payments."),
    "duplicate_ref": gettext_lazy(
        "%(value)s appears more than once in the file (first on line %(first)s)."
    ),
    "paid_exceeds_due": gettext_lazy(
        "The amount paid (%(value)s) is more than the amount due (%(due)s)."
    ),
    "payment_refused": gettext_lazy("The payment was refused: %(reason)s"),
    "file": gettext_lazy("%(value)s"),
}


def issue_message(issue) -> str:
    """The sentence for one issue, in the active language."""
    template = MESSAGES.get(issue.code)
    params = {"column": issue.column, "value": issue.value, **(issue.params or {})}
    if issue.code == "too_long":
        column = _format_column(issue)
        params["max"] = getattr(column, "max_length", None) or 500
    if issue.code == "unknown_choice":
        column = _format_column(issue)
        params["choices"] = ", ".join(getattr(column, "choices", ()))
    if issue.code == "loan_closed":
        params["status"] = Loan.Status(params.get("status", "paid")).label
    if template is None:
        return _("%(column)s: %(value)s is not accepted.") % params
    return str(template) % params


def _format_column(issue):
    fmt = FORMATS.get(issue.job.kind) if issue.job_id else None
    if fmt is None or issue.column not in fmt.names:
        return None
    return fmt.column(issue.column)
