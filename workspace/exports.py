"""CSV exports for supervisors: a filtered case list, the contact ledger, collected payments.

Each export is streamed (``StreamingHttpResponse`` over a server-side cursor, a few thousand
rows at a time), so a million rows never sit in memory. The filters are the API's
(``cases.filters``) and the rows are scoped by ``cases.access`` like
every other read, even though only supervisors reach these pages today.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import QuerySet
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.access import cases_for_user, debtors_for_user, loans_for_user
from cases.filters import CaseFilter
from compliance.models import ContactAttempt
from debtors.csv_cells import CsvWriter
from debtors.models import Payment
from debtors.money import is_currency, quantize
from workspace.views.common import supervisor_required

CHUNK = 2000
LATEST = dt.date(9000, 12, 31)


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The lines of a CSV file; its text cells neutralised for spreadsheets, its numbers
    written as numbers (``debtors.csv_cells``)."""
    writer = CsvWriter(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the mark spreadsheets need to read UTF-8
    for row in rows:
        yield writer.writerow(row)


def csv_response(name: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(stream_csv(header, rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


def _money(amount: Decimal, currency: str) -> Decimal:
    """In the currency's places; a ``Decimal``, so the file holds a number (never neutralised
    as text, whatever its sign)."""
    return quantize(amount, currency) if is_currency(currency) else amount


def _instant(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""


class PeriodForm(forms.Form):
    """``?since=YYYY-MM-DD&until=YYYY-MM-DD`` (both included): days in UTC, or in the zone
    ``tz`` names (an IANA name; the pages link their exports with the viewer's zone, so the
    file holds the days the page showed)."""

    # Within the years a day's bounds can be computed in (the day after 31 December 9999 is
    # not a date).
    since = forms.DateField(
        required=False, label=gettext_lazy("from"), validators=[MaxValueValidator(LATEST)]
    )
    until = forms.DateField(
        required=False, label=gettext_lazy("until"), validators=[MaxValueValidator(LATEST)]
    )
    tz = forms.CharField(required=False, max_length=64, label=gettext_lazy("time zone"))

    def clean_tz(self) -> dt.tzinfo:
        name = self.cleaned_data["tz"].strip()
        if not name:
            return dt.UTC
        try:
            return zoneinfo.ZoneInfo(name)
        # A folder of zones ("America") is an OSError, not a missing zone.
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise forms.ValidationError(_("Unknown time zone %(zone)s.") % {"zone": name}) from exc

    def apply(self, queryset: QuerySet, field: str) -> QuerySet:
        data = self.cleaned_data
        zone = data["tz"]
        if data.get("since"):
            start = dt.datetime.combine(data["since"], dt.time.min, tzinfo=zone)
            queryset = queryset.filter(**{f"{field}__gte": start})
        if data.get("until"):
            end = dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time.min, zone)
            queryset = queryset.filter(**{f"{field}__lt": end})
        return queryset


def bad_request(form) -> HttpResponseBadRequest:
    errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
    return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")


@supervisor_required
def cases_csv(request):
    """The case list, filtered like ``/api/v1/cases/`` (status, assigned_to, unassigned,
    min_days_past_due, next_action_before, debtor)."""
    filterset = CaseFilter(request.GET, queryset=cases_for_user(request.user), request=request)
    if not filterset.is_valid():
        return bad_request(filterset.form)
    rows = (
        filterset.qs.order_by("id")
        .values_list(
            "id",
            "debtor__external_ref",
            "debtor__full_name",
            "assigned_to__username",
            "status",
            "max_days_past_due",
            "total_outstanding",
            "broken_promises",
            "last_contact_at",
            "next_action_on",
            "priority",
        )
        .iterator(chunk_size=CHUNK)
    )
    header = [
        _("case"),
        _("debtor reference"),
        _("debtor"),
        _("collector"),
        _("status"),
        _("days past due"),
        _("total outstanding"),
        _("broken promises"),
        _("last contact"),
        _("next action on"),
        _("priority"),
    ]
    return csv_response(
        "cases",
        header,
        (
            [*row[:8], _instant(row[8]), row[9].isoformat() if row[9] else "", row[10]]
            for row in rows
        ),
    )


@supervisor_required
def contact_ledger_csv(request):
    """Every recorded contact attempt of the period (``since``, ``until``), oldest first."""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    attempts = form.apply(
        ContactAttempt.objects.filter(debtor__in=debtors_for_user(request.user)), "occurred_at"
    )
    rows = attempts.order_by("occurred_at", "id").values_list(
        "id",
        "occurred_at",
        "debtor__external_ref",
        "loan__external_ref",
        "channel",
        "direction",
        "outcome",
        "breach",
        "breach_reasons",
        "actor_label",
    )
    header = [
        _("attempt"),
        _("occurred at"),
        _("debtor reference"),
        _("loan reference"),
        _("channel"),
        _("direction"),
        _("outcome"),
        _("breach"),
        _("breach reasons"),
        _("recorded by"),
    ]
    return csv_response(
        "contact-ledger",
        header,
        (
            [
                row[0],
                _instant(row[1]),
                row[2],
                row[3] or "",
                *row[4:7],
                "yes" if row[7] else "no",
                " ".join(row[8] or []),
                row[9],
            ]
            for row in rows.iterator(chunk_size=CHUNK)
        ),
    )


@supervisor_required
def payments_csv(request):
    """Collected payments of the period (``since``, ``until``, by date received)."""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    payments = form.apply(
        Payment.objects.filter(loan__in=loans_for_user(request.user)), "received_at"
    )
    rows = payments.order_by("received_at", "id").values_list(
        "id",
        "received_at",
        "loan__external_ref",
        "loan__debtor__external_ref",
        "loan__currency",
        "amount",
        "allocated_amount",
        "credit_amount",
        "method",
        "source",
        "external_ref",
    )
    header = [
        _("payment"),
        _("received at"),
        _("loan reference"),
        _("debtor reference"),
        _("currency"),
        _("amount"),
        _("allocated"),
        _("kept as credit"),
        _("method"),
        _("source"),
        _("external reference"),
    ]
    return csv_response(
        "payments",
        header,
        (
            [
                row[0],
                _instant(row[1]),
                row[2],
                row[3],
                row[4],
                _money(row[5], row[4]),
                _money(row[6], row[4]),
                _money(row[7], row[4]),
                *row[8:],
            ]
            for row in rows.iterator(chunk_size=CHUNK)
        ),
    )
