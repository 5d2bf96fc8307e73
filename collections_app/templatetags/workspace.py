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
from django.utils import timezone, translation

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


@register.filter
def money(amount, currency: str = ""):
    """An amount in its currency, formatted for the active language (``¥1,234.50``)."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(amount)
    if not currency:
        return format_decimal(value, locale=babel_locale())
    return format_currency(value, currency, locale=babel_locale())


@register.filter
def num(value):
    if value is None or value == "":
        return "—"
    return format_decimal(value, locale=babel_locale())


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
        local = value.astimezone(tz)
        locale = babel_locale()
        return f"{format_date(local, 'medium', locale=locale)} {format_time(local, 'short', locale=locale)}"
    return format_date(value, "medium", locale=babel_locale())


@register.filter
def day(value):
    if not value:
        return "—"
    return format_date(value, "medium", locale=babel_locale())


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
    from compliance.reasons import reason_label

    return [str(reason_label(code)) for code in codes or ()]
