"""Formatting for the workspace pages in the active language: money, numbers, instants."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from functools import lru_cache

from babel.core import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, format_percent
from django import template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from compliance.reasons import reason_label
from workspace.selectors.labels import choice_label

register = template.Library()


def babel_locale() -> Locale:
    """The babel locale of the active language (``zh-hans`` -> ``zh_Hans_CN``)."""
    return _locale(translation.get_language() or "en")


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    # Parsing a locale is costly and a page formats hundreds of values: parse each once.
    if code.lower().startswith("zh"):
        return Locale.parse("zh_Hans_CN")
    return Locale.parse(translation.to_locale(code))


# A page formats the same amounts, dates and instants many times over (an installment plan
# repeats its amount, a timeline its days), and formatting in a locale is the costly part of
# rendering it: each filter remembers what it gave for a value in a language.
FORMAT_CACHE_SIZE = 8192


def _language() -> str:
    return translation.get_language() or "en"


@register.filter
def money(amount, currency: str = ""):
    """An amount in its currency, formatted for the active language (``¥1,234.50``)."""
    if amount is None or amount == "":
        return "—"
    return _money(str(amount), currency or "", _language())


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _money(amount: str, currency: str, language: str) -> str:
    value = Decimal(amount)
    if not currency:
        # Cents always shown, up to the four places the columns hold: 1,234.50, not 1,234.5.
        return format_decimal(value, format="#,##0.00##", locale=_locale(language))
    return format_currency(value, currency, locale=_locale(language))


@register.filter
def num(value):
    if value is None or value == "":
        return "—"
    return _num(type(value), value, _language())


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _num(_kind: type, value, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


@register.filter
def pct(value):
    """A ratio (0.25) as a percentage for the active language."""
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.0%", locale=babel_locale())


@register.filter
def when(value, zone_name: str = ""):
    """An instant in the viewer's zone (or ``zone_name``), formatted for the active language."""
    if not value:
        return "—"
    if isinstance(value, dt.datetime):
        tz = zoneinfo.ZoneInfo(zone_name) if zone_name else timezone.get_current_timezone()
        return _instant(value, tz, _language())
    return _day(value, _language())


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _instant(value: dt.datetime, tz, language: str) -> str:
    local = value.astimezone(tz)
    locale = _locale(language)
    return f"{format_date(local, 'medium', locale=locale)} {format_time(local, 'short', locale=locale)}"


@register.filter
def day(value):
    if not value:
        return "—"
    return _day(value, _language())


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _day(value: dt.date, language: str) -> str:
    return format_date(value, "medium", locale=_locale(language))


@register.filter
def zone_abbrev(value, zone_name: str = ""):
    if not value:
        return ""
    tz = zoneinfo.ZoneInfo(zone_name) if zone_name else timezone.get_current_timezone()
    return value.astimezone(tz).strftime("%Z")


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    return mapping.get(key)


@register.filter
def reason_labels(codes):
    """Gate reason codes as their translated labels."""

    return [str(reason_label(code)) for code in codes or ()]


@register.filter
def label(obj, field_name: str):
    """``obj.get_<field_name>_display()`` from the field's choices read once per process
    (Django's own method rebuilds the choices on every call)."""
    return choice_label(type(obj), field_name, getattr(obj, field_name))


@register.filter
def contactable(decision):
    """The "may I call now?" badge of a gate dry-run answer (``None``: unknown). A filter, not
    an included template: the queue shows one per row."""
    if decision is None:
        return format_html('<span class="badge">{}</span>', gettext("Unknown"))
    if decision.allowed:
        return format_html('<span class="badge good">{}</span>', gettext("Yes"))
    badge = format_html(
        '<span class="badge warn" title="{}">{}</span>',
        " ".join(str(reason) for reason in decision.reasons),
        gettext("Not now"),
    )
    if not decision.next_allowed_at:
        return badge
    return format_html(
        '{}\n  <small class="muted">{} {}</small>',
        badge,
        gettext("from"),
        when(decision.next_allowed_at),
    )


@register.simple_tag
def queue_row(case, decision, with_selection: bool = False):
    """One row of the work queue, rendered here rather than by the template: a queue page shows
    25 of them, and each cell of a template row costs several times more to render."""
    ref = case.debtor.external_ref
    cells = []
    if with_selection:
        cells.append(
            format_html(
                '<td><input type="checkbox" name="cases" value="{}" aria-label="{} {}"></td>',
                case.pk,
                gettext("Select"),
                ref,
            )
        )
    cells += [
        format_html(
            '<td><a href="{}" class="case-link">{}</a> <small class="muted">{}</small></td>',
            reverse("case-detail", args=[case.pk]),
            case.debtor.full_name,
            ref,
        ),
        format_html('<td class="num">{}</td>', num(case.priority)),
        format_html('<td class="num">{}</td>', num(case.max_days_past_due)),
        format_html('<td class="num">{}</td>', money(case.total_outstanding)),
        format_html("<td>{}</td>", choice_label(type(case), "status", case.status)),
        format_html("<td>{}</td>", contactable(decision)),
        format_html("<td>{}</td>", when(case.last_contact_at)),
    ]
    if with_selection:
        cells.append(format_html("<td>{}</td>", case.assigned_to or "—"))
    return format_html("<tr>{}</tr>", mark_safe("".join(cells)))  # noqa: S308 - escaped above


@register.simple_tag
def schedule_rows(rows, currency: str, mark_paid: bool = False):
    """The rows of an installment table (number, due date, amount due, paid): a loan or a plan
    may have dozens, rendered here rather than cell by cell in the template. ``mark_paid``
    greys out the installments paid in full."""
    return format_html_join(
        "",
        '<tr{}><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>',
        (
            (
                mark_safe(' class="paid"') if mark_paid and row.is_paid else "",  # noqa: S308
                row.sequence,
                day(row.due_date),
                money(row.amount_due, currency),
                money(row.amount_paid, currency),
            )
            for row in rows
        ),
    )
