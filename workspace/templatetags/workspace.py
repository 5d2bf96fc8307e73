"""Formatting for the workspace pages in the active language: money, numbers, instants."""

from __future__ import annotations

import zoneinfo

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from compliance.reasons import reason_label
from workspace import formats
from workspace.selectors.labels import choice_label

register = template.Library()


for _name in ("money", "num", "pct", "when", "day", "country"):
    register.filter(_name, getattr(formats, _name))
money, num, when, day = formats.money, formats.num, formats.when, formats.day


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
    if decision.next_allowed_at:
        until = gettext("until %(when)s") % {"when": when(decision.next_allowed_at)}
    else:
        until = gettext("until the hold is lifted")
    return format_html(
        '<span class="badge warn">{}</span> <small class="why">{} · {}</small>',
        gettext("Not now"),
        "; ".join(str(reason_label(code)) for code in decision.reasons),
        until,
    )


def balances(amounts) -> str:
    """A debtor's outstanding balances, one per currency: ``¥1,200.00 · $35.00``."""
    if not amounts:
        return "—"
    return " · ".join(money(amount, currency) for currency, amount in amounts)


@register.simple_tag
def queue_row(case, decision, amounts, with_selection: bool = False):
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
        format_html("<td>{}</td>", case.score_band or "—"),
        format_html('<td class="num">{}</td>', balances(amounts)),
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
