"""One format per language for money, numbers, dates and instants: every page, form and
export line shows them through these functions (the templates through the filters of the same
names in ``workspace.templatetags.workspace``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from functools import lru_cache

from babel.core import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, format_percent
from django.utils import timezone, translation


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


def num(value):
    if value is None or value == "":
        return "—"
    return _num(type(value), value, _language())


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _num(_kind: type, value, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


def pct(value):
    """A ratio (0.25) as a percentage for the active language."""
    if value is None:
        return "—"
    return format_percent(value, format="#,##0.0%", locale=babel_locale())


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


def day(value):
    if not value:
        return "—"
    return _day(value, _language())


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _day(value: dt.date, language: str) -> str:
    return format_date(value, "medium", locale=_locale(language))


def country(code: str) -> str:
    """A country's name in the active language (``CN`` -> ``China`` / ``中国``); a code babel
    does not know is shown as it is."""
    if not code:
        return "—"
    return _locale(_language()).territories.get(code.upper(), code)
